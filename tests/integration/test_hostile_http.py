"""No 5xx from anything a network can send: odd signatures and timestamps, bodies of any bytes, deep or huge JSON, odd links."""
from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.signing import signed_headers
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway

# Header values as http.client can send them (latin-1, no line breaks): what a hostile client can put on the wire.
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=90)
OFFICE = ("office-desk", "office-secret-0123456789")  # the loop's endpoints take workstation and office keys
ENDPOINTS = [("POST", "/api/v1/reports"), ("POST", "/api/v1/consultations"), ("PATCH", "/api/v1/supervision/S-000001"),
             ("GET", "/api/v1/reports/TZ-1"), ("GET", "/api/v1/work-orders/1"), ("POST", "/api/v1/reports/upload")]


def _send(base_url: str, method: str, target: str, body: bytes, headers: dict[str, str]) -> int:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value.encode("utf-8"))  # raw bytes on the wire, whatever the client encoding
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "gateway.yaml").write_text(f"clients:\n  - {{key_id: {OFFICE[0]}, secrets: [{OFFICE[1]}], role: office}}\n", encoding="utf-8")
    with running_gateway(folder, workers=False, config=folder / "gateway.yaml") as (_, served):
        yield served


def test_any_headers_and_body_get_an_answer_below_500(server: Any) -> None:
    statuses: list[int] = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(endpoint=st.sampled_from(ENDPOINTS), key_id=st.one_of(st.just(CLIENT_KEY_ID), header_text),
           timestamp=st.one_of(st.just(None), header_text, st.integers().map(str), st.just("١٧٠٠٠٠٠٠٠٠")),
           signature=st.one_of(st.just(None), header_text, st.sampled_from(["sha256=é", "v2=" + "0" * 64, "sha256=" + "f" * 64, "v2="])),
           nonce=st.one_of(st.just(None), header_text), body=st.binary(max_size=600), content_type=st.sampled_from(
               ["application/json", "application/json; charset=utf-8", "multipart/form-data; boundary=x", "text/plain", "é"]))
    def probe(endpoint: tuple[str, str], key_id: str, timestamp: str | None, signature: str | None, nonce: str | None, body: bytes,
              content_type: str) -> None:
        method, target = endpoint
        headers = {"X-Gateway-Key-Id": key_id, "Content-Type": content_type}
        for name, value in (("X-Gateway-Timestamp", timestamp), ("X-Gateway-Signature", signature), ("X-Gateway-Nonce", nonce)):
            if value is not None:
                headers[name] = value
        status = _send(server.url, method, target, body, headers)
        statuses.append(status)
        assert status < 500, (method, target, headers, body[:80])

    probe()
    # Not vacuous: the requests reached the gateway and were refused (a run that sent nothing would pass the assert above).
    assert len(statuses) >= 100 and sum(400 <= s < 500 for s in statuses) >= 100, sorted(set(statuses))


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_correctly_signed_bodies_of_any_shape_get_an_answer_below_500(server: Any) -> None:
    statuses: list[int] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(body=st.one_of(
        st.binary(max_size=2000),
        st.integers(min_value=10, max_value=200_000).map(_deep),
        st.integers(min_value=4_400, max_value=20_000).map(lambda n: b'{"report_id": ' + b"9" * n + b"}"),
        st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
                     max_leaves=30).map(lambda v: json.dumps(v).encode()),
    ), endpoint=st.sampled_from([("POST", "/api/v1/reports"), ("POST", "/api/v1/consultations"), ("PATCH", "/api/v1/supervision/S-000001")]))
    def probe(body: bytes, endpoint: tuple[str, str]) -> None:
        method, target = endpoint
        key_id, secret = (CLIENT_KEY_ID, CLIENT_SECRET) if target == "/api/v1/reports" else OFFICE
        headers = {**signed_headers(key_id, secret, body, method=method, target=target), "Content-Type": "application/json; charset=utf-8"}
        status = _send(server.url, method, target, body, headers)
        statuses.append(status)
        assert status < 500, (target, body[:80])

    probe()
    assert len(statuses) >= 40 and all(400 <= s < 500 for s in statuses) and 403 not in statuses, sorted(set(statuses))


@pytest.mark.parametrize("token", ["é", "%E9%9D%9E", "a.b", "x" * 5000, "..", "UDE6MToxNzk2MjQ4ODgx.é" + "a" * 42, "\u200b.\u200b"])
def test_odd_acknowledgement_links_get_a_page_not_a_crash(server: Any, token: str) -> None:
    for method in ("GET", "POST"):
        assert _send(server.url, method, "/ack/" + quote(token, safe="%."), b"", {}) in (404, 410)
