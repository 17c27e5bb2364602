"""Who may do what, and replays refused as INTEGRATION.md §1 says: every endpoint × every role, v2 nonces, v1 state changes."""
from __future__ import annotations

import http.client
import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gateway.signing import signed_headers
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, wait_for_state, weekly

WORKSTATION = ("liyuan-station", "liyuan-secret-0123456789")
OFFICE = ("office-desk", "office-secret-0123456789")
KEYS = {"command_center": (CLIENT_KEY_ID, CLIENT_SECRET), "workstation": WORKSTATION, "office": OFFICE}
CONFIG = f"""\
clients:
  - {{key_id: {CLIENT_KEY_ID}, secrets: [{CLIENT_SECRET}]}}
  - {{key_id: {WORKSTATION[0]}, secrets: [{WORKSTATION[1]}], workstation: 梨园镇委员工作站}}
  - {{key_id: {OFFICE[0]}, secrets: [{OFFICE[1]}], role: office}}
"""
TABLE1 = {
    "workstation": "梨园镇委员工作站", "period": {"start": "2026-11-20", "end": "2026-11-20"}, "topic": "小区积水治理",
    "items": [{"text": "协调改造排水管网", "outcome": "short_term", "assigned_unit": "区水务局"}],
}


def _send(base_url: str, method: str, target: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, target, body=body or None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8")
        return response.status, (json.loads(text) if text.startswith(("{", "[")) else text)
    finally:
        connection.close()


def _signed(base_url: str, role: str, method: str, target: str, data: Any = None, *, v1: bool = False) -> tuple[int, Any]:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8") if data is not None else b""
    key_id, secret = KEYS[role]
    headers = signed_headers(key_id, secret, body) if v1 else signed_headers(key_id, secret, body, method=method, target=target)
    if body:
        headers["Content-Type"] = "application/json; charset=utf-8"
    return _send(base_url, method, target, body, headers)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder: Path = tmp_path_factory.mktemp("access")
    (folder / "gateway.yaml").write_text(CONFIG, encoding="utf-8")
    with running_gateway(folder, config=folder / "gateway.yaml") as (gateway, server):
        assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly()).status == 202
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        status, receipt = _signed(server.url, "workstation", "POST", "/api/v1/consultations", TABLE1)
        assert status == 201, receipt
        yield gateway, server, receipt


ENDPOINTS = [  # (method, target, body, the roles that may)
    ("POST", "/api/v1/reports", {**weekly("TZ-2026-W47-B")}, {"command_center"}),
    ("GET", "/api/v1/reports/TZ-2026-W47", None, {"command_center", "office"}),
    ("GET", "/api/v1/work-orders/2611160000001", None, {"command_center", "office"}),
    ("GET", "/api/v1/clues/{clue_id}", None, {"command_center", "office"}),
    ("POST", "/api/v1/consultations", TABLE1, {"workstation", "office"}),
    ("GET", "/api/v1/consultations/{consultation_id}", None, {"workstation", "office"}),
    ("PATCH", "/api/v1/supervision/{supervision_id}", {"progress": "已完成设计"}, {"workstation", "office"}),
]


@pytest.mark.parametrize("role", sorted(KEYS))
@pytest.mark.parametrize(("method", "target", "body", "allowed"), ENDPOINTS, ids=[f"{m} {t}" for m, t, _, _ in ENDPOINTS])
def test_every_endpoint_answers_each_role_as_its_scope_says(served: Any, role: str, method: str, target: str, body: Any, allowed: set[str]) -> None:
    gateway, server, receipt = served
    status_body = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/reports/TZ-2026-W47").body
    clue_id = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/2611160000001").body["clue_id"]
    target = target.format(clue_id=clue_id, consultation_id=receipt["consultation_id"], supervision_id=receipt["supervision_ids"][0])
    if body is not None and method == "POST" and target == "/api/v1/reports":
        body = {**body, "report_id": f"TZ-2026-W47-{role}"}  # a new report each time: the answer is about the key, not idempotency
    status, answer = _signed(server.url, role, method, target, body)
    if role in allowed:
        assert status in (200, 201, 202), (role, method, target, status, answer)
    else:
        assert status == 403, (role, method, target, status, answer)
        assert answer["type"] == "/problems/forbidden" and KEYS[role][0] in answer["detail"]
    assert status_body["state"] == "delivered"


def test_a_command_center_reads_only_what_it_pushed(served: Any, tmp_path: Path) -> None:
    _, server, _ = served
    # The office's key is not a command center: it pushes nothing; but it reads everyone's.
    assert _signed(server.url, "office", "GET", "/api/v1/reports/TZ-2026-W47")[0] == 200
    # Another command center's key (a second client) finds no report of this one.
    gateway = served[0]
    gateway.config.clients["other-cc"] = type(gateway.config.clients[CLIENT_KEY_ID])(key_id="other-cc", secrets=["other-secret-0123456789"])
    KEYS["other"] = ("other-cc", "other-secret-0123456789")
    try:
        assert _signed(server.url, "other", "GET", "/api/v1/reports/TZ-2026-W47")[0] == 404
        assert _signed(server.url, "other", "GET", "/api/v1/work-orders/2611160000001")[0] == 404
    finally:
        del KEYS["other"], gateway.config.clients["other-cc"]


def test_a_v2_signature_is_good_for_one_request_only(served: Any) -> None:
    _, server, _ = served
    target = "/api/v1/reports/TZ-2026-W47"
    headers = signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, b"", method="GET", target=target)
    assert _send(server.url, "GET", target, b"", headers)[0] == 200
    status, answer = _send(server.url, "GET", target, b"", headers)  # the same request again: a replay
    assert status == 401 and "replay" in answer["detail"]
    fresh = signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, b"", method="GET", target=target)
    status, answer = _send(server.url, "GET", "/api/v1/work-orders/2611160000001", b"", fresh)  # signed for another path
    assert status == 401 and "does not match" in answer["detail"]
    status, answer = _send(server.url, "GET", target + "?x=1", b"", fresh)  # or another query
    assert status == 401


def test_a_replayed_v1_state_change_is_refused_and_does_not_put_anything_back(served: Any) -> None:
    gateway, server, receipt = served
    target = f"/api/v1/supervision/{receipt['supervision_ids'][0]}"
    old = json.dumps({"progress": "设计中", "state": "open"}, ensure_ascii=False).encode()
    captured = {**signed_headers(*WORKSTATION, old), "Content-Type": "application/json; charset=utf-8"}
    assert _send(server.url, "PATCH", target, old, captured)[0] == 200
    assert _signed(server.url, "workstation", "PATCH", target, {"progress": "已办结", "state": "done"})[0] == 200
    status, answer = _send(server.url, "PATCH", target, old, captured)  # the captured old request, sent again
    assert status == 401 and "replay" in answer["detail"]
    status, view = _signed(server.url, "workstation", "GET", f"/api/v1/consultations/{receipt['consultation_id']}")
    assert status == 200 and view["supervision"][0]["state"] == "done"
    table1 = json.dumps({**TABLE1, "topic": "另一次活动"}, ensure_ascii=False).encode()
    posted = {**signed_headers(*WORKSTATION, table1), "Content-Type": "application/json; charset=utf-8"}
    assert _send(server.url, "POST", "/api/v1/consultations", table1, posted)[0] == 201
    assert _send(server.url, "POST", "/api/v1/consultations", table1, posted)[0] == 401
    # A v1 read may be repeated (the contract refuses v1 replays of state changes only).
    read = signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, b"")
    assert [_send(server.url, "GET", "/api/v1/reports/TZ-2026-W47", b"", read)[0] for _ in range(2)] == [200, 200]
    exposition = gateway.metrics.exposition().decode()
    assert 'gateway_signatures_total{version="1"}' in exposition and 'gateway_signatures_total{version="2"}' in exposition


def test_v1_can_be_turned_off(tmp_path: Path) -> None:
    with running_gateway(tmp_path, accept_signature_v1=False) as (_, server):
        body = json.dumps(weekly(), ensure_ascii=False).encode()
        status, answer = _send(server.url, "POST", "/api/v1/reports", body,
                               {**signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, body), "Content-Type": "application/json"})
        assert status == 401 and "v1" in answer["detail"] and "turned off" in answer["detail"]
        assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly()).status == 202  # v2 still works


def test_the_nonce_store_is_shared_by_two_api_processes(tmp_path: Path) -> None:
    """Two gateways on one database (as two API processes): a nonce used on one is a replay on the other."""
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    with running_gateway(tmp_path / "a", database_url=database) as (_, first), running_gateway(tmp_path / "b", database_url=database) as (_, second):
        target = "/api/v1/reports/none"
        headers = signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, b"", method="GET", target=target)
        assert _send(first.url, "GET", target, b"", headers)[0] == 404
        status, answer = _send(second.url, "GET", target, b"", headers)
        assert status == 401 and "replay" in answer["detail"]


def test_the_anonymous_learn_no_key_ids_hosts_or_addresses(tmp_path: Path, smtp: Any) -> None:
    """/metrics wants the operators' token; /readyz and /healthz say only whether things work."""
    with running_gateway(tmp_path, smtp_url=smtp.url, metrics_token="prom-token-0123456789") as (_, server):
        assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly()).status == 202
        status, answer = _send(server.url, "GET", "/metrics", b"", {})
        assert status == 401 and CLIENT_KEY_ID not in json.dumps(answer)
        status, exposition = _send(server.url, "GET", "/metrics", b"", {"Authorization": "Bearer prom-token-0123456789"})
        assert status == 200 and CLIENT_KEY_ID in exposition  # the operators see per-client figures
        status, ready = _send(server.url, "GET", "/readyz", b"", {})
        assert status == 200 and set(ready["checks"]) == {"database", "broker", "mail"}
        text = json.dumps(ready)
        assert "127.0.0.1" not in text and "smtp" not in text and str(tmp_path) not in text and all("detail" not in c for c in ready["checks"].values())
        status, detailed = _send(server.url, "GET", "/readyz", b"", {"Authorization": "Bearer prom-token-0123456789"})
        assert status == 200 and "smtp://127.0.0.1" in json.dumps(detailed)
        status, health = _send(server.url, "GET", "/healthz", b"", {})
        assert status == 200 and str(tmp_path) not in json.dumps(health)
