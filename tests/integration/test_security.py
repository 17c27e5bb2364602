"""Attacks a gateway on a government network should expect: forged requests, markup and SQL in text, odd file names, leaks."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.bootstrap import Gateway
from gateway.db.models import Report
from gateway.signing import signed_headers
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, raw_post, record, wait_for_state, weekly
from tests.helpers.smtp import SmtpServer

OTHER = ("other-client", "other-client-secret-0123456789")


def _reports(gateway: Gateway) -> int:
    with gateway.uow.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def test_signature_bypass_attempts_are_all_refused_and_store_nothing(tmp_path: Path) -> None:
    with running_gateway(tmp_path, client_keys=f"{CLIENT_KEY_ID}:{CLIENT_SECRET},{OTHER[0]}:{OTHER[1]}") as (gateway, server):
        body = json.dumps(weekly(), ensure_ascii=False).encode()
        good = signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, body)
        swapped = json.dumps(weekly("TZ-2026-W48"), ensure_ascii=False).encode()
        attempts = {
            "no headers": ({}, body),
            "key id in other case": ({**good, "X-Gateway-Key-Id": CLIENT_KEY_ID.upper()}, body),
            "signature in upper case": ({**good, "X-Gateway-Signature": good["X-Gateway-Signature"].upper()}, body),
            "signature with a prefix": ({**good, "X-Gateway-Signature": "sha256=" + good["X-Gateway-Signature"]}, body),
            "empty signature": ({**good, "X-Gateway-Signature": ""}, body),
            "body swapped after signing": (good, swapped),
            "timestamp from the future": (signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, body, now=time.time() + 400), body),
            "timestamp not a number": ({**good, "X-Gateway-Timestamp": "now"}, body),
            "timestamp changed after signing": ({**good, "X-Gateway-Timestamp": str(int(good["X-Gateway-Timestamp"]) + 1)}, body),
            "another client's secret under this key id": (signed_headers(CLIENT_KEY_ID, OTHER[1], body), body),
            "this client's secret under another key id": (signed_headers(OTHER[0], CLIENT_SECRET, body), body),
        }
        answers = {name: raw_post(server.url, "/api/v1/reports", data, {"Content-Type": "application/json", **headers})
                   for name, (headers, data) in attempts.items()}
        for name, (status, problem, _) in answers.items():
            assert status == 401, name
            assert CLIENT_SECRET not in json.dumps(problem) and OTHER[1] not in json.dumps(problem), name
        assert _reports(gateway) == 0
        assert raw_post(server.url, "/api/v1/reports", body, {"Content-Type": "application/json", **good})[0] == 202  # the real one passes
        assert raw_post(server.url, "/api/v1/reports", body, {"Content-Type": "application/json", **good})[0] == 401  # once


HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>'; DROP TABLE reports; -- \" OR 1=1 {{7*7}} ${7*7}"


def test_markup_and_sql_in_every_text_field_are_stored_literally_and_escaped_in_every_page(tmp_path: Path, smtp: SmtpServer) -> None:
    records = [
        record(f"26111600{i:05d}", content=f"云景里小区门口道路积水严重{HOSTILE}", address=HOSTILE, community=HOSTILE, handling_unit=HOSTILE)
        for i in range(4)
    ]
    report = weekly(records=records)
    report["title"], report["summary"] = HOSTILE, HOSTILE
    with running_gateway(tmp_path, smtp_url=smtp.url) as (gateway, server):
        assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report).status == 202
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        with gateway.uow.session_factory() as session:
            (stored,) = session.scalars(select(Report)).all()
            assert stored.title == HOSTILE  # literally, through bound parameters: the table is still there
        (message,) = [m for _, m in smtp.inbox.wait_for(1)]
        html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
        token = [line for line in message.get_body(preferencelist=("plain",)).get_content().splitlines() if "/ack/" in line][0]  # type: ignore[union-attr]
        ack_page = __import__("urllib.request").request.urlopen(server.url + "/ack/" + token.rsplit("/", 1)[1], timeout=10).read().decode()
    assert status["state"] == "delivered"
    assert "<script" not in html and "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(" in html  # shown as text, not run
    assert "<script" not in ack_page.lower()


def test_path_traversal_in_uploaded_file_names_writes_nothing_anywhere(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "gw"
    content = "工单编号,受理时间,诉求内容\n2611160000001,2026-11-16 09:00,小区门口道路积水\n".encode("utf-8")
    before = {p for p in tmp_path.rglob("*")}
    with running_gateway(data_dir) as (gateway, server):
        for name in ("../../evil.csv", "..\\..\\evil.csv", "/etc/passwd.csv", "周报_TZ-1_2026-11-16_2026-11-22/../../evil.csv"):
            answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload",
                          {"kind": "express", "report_id": f"UP-{abs(hash(name)) % 10000}"}, name, content)
            assert answer.status in (202, 200), (name, answer.body)
    after = {p for p in tmp_path.rglob("*")}
    outside = [p for p in after - before if data_dir not in p.parents and p != data_dir]
    assert not [p for p in outside if "evil" in p.name], outside
    assert not any("evil" in p.name for p in after)
    assert not Path("/etc/passwd.csv").exists()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # a test server that refuses every login
def test_secrets_never_reach_logs_error_bodies_or_delivery_records(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from aiosmtpd.smtp import AuthResult

    from tests.helpers.smtp import SmtpServer as Server

    password = "Sup3r-S3cret-Pa55"
    server = Server(auth_required=True, auth_require_tls=False,
                    authenticator=lambda *a: AuthResult(success=False, handled=False)).start()
    caplog.set_level(logging.DEBUG)
    try:
        with running_gateway(tmp_path, smtp_url=f"smtp://gateway:{password}@127.0.0.1:{server.controller.port}") as (gateway, gw):
            call(gw.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
            deadline = time.monotonic() + 20
            errors: list[str] = []
            while time.monotonic() < deadline and not errors:
                status = call(gw.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/reports/TZ-2026-W47").body
                errors = [d["last_error"] for p in status.get("packets", []) for d in p["deliveries"] if d["last_error"]]
                time.sleep(0.3)
            readyz = __import__("urllib.request").request
            try:
                readyz.urlopen(gw.url + "/readyz", timeout=15)
                ready_body = ""
            except readyz.HTTPError as exc:  # type: ignore[attr-defined]
                ready_body = exc.read().decode()
                exc.close()
            bad = raw_post(gw.url, "/api/v1/reports", b"{}", {"Content-Type": "application/json",
                                                                 **signed_headers(CLIENT_KEY_ID, "wrong-" + CLIENT_SECRET, b"{}")})
            metrics = call(gw.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/metrics").body
    finally:
        server.stop()
    assert errors and all("login refused" in e for e in errors)
    everything = "\n".join([caplog.text, *errors, ready_body, json.dumps(bad[1]), metrics, json.dumps(status, ensure_ascii=False)])
    assert "cannot use the mail server" in ready_body
    for secret in (password, CLIENT_SECRET):
        assert secret not in everything
