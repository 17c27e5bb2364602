"""The push API against a real server on 127.0.0.1 (embedded mode, SQLite)."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.bootstrap import Gateway
from gateway.db.models import Report, ReportChunk
from gateway.serve import ServerThread
from gateway.signing import signed_headers
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, raw_post, wait_for_state, weekly

JSON = "application/json; charset=utf-8"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Gateway, ServerThread]]:
    with running_gateway(tmp_path, max_body_bytes=200_000) as pair:
        yield pair


def _reports(gateway: Gateway) -> int:
    with gateway.uow.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def _post(server: ServerThread, body: bytes, *, headers: dict[str, str] | None = None, path: str = "/api/v1/reports", content_type: str = JSON):
    sent = {"Content-Type": content_type, **(headers if headers is not None else signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, body))}
    return raw_post(server.url, path, body, sent)


def test_accepted_report_gets_a_receipt_and_a_status(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
    assert answer.status == 202
    assert answer.body["report_id"] == "TZ-2026-W47" and answer.body["records"] == 10 and answer.body["duplicate"] is False
    assert answer.body["status_url"] == "/api/v1/reports/TZ-2026-W47"
    status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    assert status["records"]["received"] == 10
    assert status["records"]["excluded_by_reason"] == {"litigation": 1}
    assert status["records"]["routed"] == 9 and status["records"]["delivered"] == 9
    assert {p["committee"] for p in status["packets"]} == {"城建环保委员会", "教科卫体委员会", "提案委员会"}


def test_same_report_again_is_a_duplicate_and_a_changed_one_a_conflict(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    first = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
    time.sleep(1.05)  # a resend is signed afresh: same body, same second would be the same signature (a replay)
    again = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
    assert again.status == 200 and again.body["duplicate"] is True
    assert again.body["receipt_id"] == first.body["receipt_id"]
    changed = weekly()
    changed["title"] = "改过的标题"
    conflict = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", changed)
    assert conflict.status == 409
    assert _reports(gateway) == 1


@pytest.mark.parametrize("case", ["unsigned", "wrong-secret", "stale", "unknown-key"])
def test_bad_signatures_get_401_and_nothing_is_stored(served: tuple[Gateway, ServerThread], case: str) -> None:
    gateway, server = served
    body = json.dumps(weekly()).encode()
    headers = {
        "unsigned": {},
        "wrong-secret": signed_headers(CLIENT_KEY_ID, "not-the-secret-0123456789", body),
        "stale": signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, body, now=time.time() - 301),
        "unknown-key": signed_headers("someone-else", CLIENT_SECRET, body),
    }[case]
    status, problem, response_headers = _post(server, body, headers=headers)
    assert status == 401
    assert response_headers["Content-Type"].startswith("application/problem+json")
    assert problem["status"] == 401 and problem["detail"]
    assert _reports(gateway) == 0


def test_a_replayed_signature_is_refused(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    body = json.dumps(weekly()).encode()
    headers = signed_headers(CLIENT_KEY_ID, CLIENT_SECRET, body)
    assert _post(server, body, headers=headers)[0] == 202
    status, problem, _ = _post(server, body, headers=headers)
    assert status == 401 and "replay" in problem["detail"]


def test_malformed_json_is_422_naming_the_body(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    status, problem, headers = _post(server, b'{"report_id": "R1", ')
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json")
    assert problem["errors"][0]["loc"] == ["body"]
    assert _reports(gateway) == 0


def test_bad_fields_are_422_naming_every_one_with_its_record(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    report = weekly()
    report["records"][1]["received_at"] = "not a time"
    report["records"][3]["ticket_no"] = "bad/ticket"  # a / cannot be in a ticket number (a space or a Chinese prefix can)
    status, problem, _ = _post(server, json.dumps(report).encode())
    assert status == 422
    assert {tuple(e["loc"]) for e in problem["errors"]} == {("records", 1, "received_at"), ("records", 3, "ticket_no")}
    assert _reports(gateway) == 0


def test_partial_acceptance_stores_the_good_records(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    report = weekly()
    report["records"][1]["received_at"] = "not a time"
    answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report, partial=True)
    assert answer.status == 202 and answer.body["records"] == 9
    assert [r["index"] for r in answer.body["rejected"]] == [1]
    status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    assert status["records"]["received"] == 9 and status["records"]["rejected"] == 1


def test_wrong_content_type_is_415(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    assert _post(server, b"a,b\n", content_type="text/csv")[0] == 415


def test_body_over_the_limit_is_413_before_it_is_read(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    body = json.dumps(weekly(records=[])).encode() + b" " * 250_000
    status, problem, _ = _post(server, body)
    assert status == 413 and "limit" in problem["detail"]
    assert _reports(gateway) == 0


def test_status_of_an_unknown_report_is_404_and_reads_need_a_signature(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/reports/NOPE").status == 404
    assert call(server.url, CLIENT_KEY_ID, "wrong-secret-0123456789", "get", "/api/v1/reports/NOPE").status == 401


def test_work_order_view_is_masked_and_names_committee_and_reports(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
    wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    body = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/2611160000001").body
    assert body["committee"] == "城建环保委员会"
    assert body["reports"] == ["TZ-2026-W47"]
    assert body["category"] == ["城乡建设", "城市建设和市政管理", "道路积水"]  # 市政设施 mapped onto the taxonomy
    assert body["issue_id"] is not None and body["category_inferred"] is False
    assert body["packets"] == ["P000001-urban"]
    assert "13812345678" not in json.dumps(body, ensure_ascii=False) and "王建国" not in json.dumps(body, ensure_ascii=False)
    excluded = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/2611160200001").body
    assert excluded["excluded"] == "litigation" and excluded["clue_id"] is None and excluded["committee"] is None


def test_same_ticket_in_a_later_report_is_one_work_order_with_both_reports(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
    wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    monthly = weekly("TZ-2026-M11")
    monthly["kind"] = "monthly"
    monthly["period"] = {"start": "2026-11-01", "end": "2026-11-30"}
    monthly["issued_at"] = "2026-12-01T08:00:00+08:00"
    monthly["records"][0]["status"] = "processing"
    call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", monthly)
    status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-M11")
    assert status["records"]["duplicates"] == 10
    body = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/2611160000000").body
    assert body["reports"] == ["TZ-2026-W47", "TZ-2026-M11"] and body["status"] == "processing"


def test_healthz_and_metrics(served: tuple[Gateway, ServerThread]) -> None:
    import urllib.request

    _, server = served
    call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
    with urllib.request.urlopen(server.url + "/healthz") as response:
        assert json.load(response) == {"status": "ok", "database": "ok", "broker": "embedded"}
    with urllib.request.urlopen(server.url + "/metrics") as response:
        text = response.read().decode()
    assert 'gateway_reports_received_total{client="tz-command-center",kind="weekly"} 1.0' in text


def test_a_body_that_is_not_utf8_is_422(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    status, problem, _ = _post(server, json.dumps(weekly(), ensure_ascii=False).encode("gb18030"))
    assert status == 422 and "not UTF-8" in problem["detail"]
    assert _reports(gateway) == 0


def test_wrong_types_and_missing_fields_are_named(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    report = weekly()
    report["records"][0]["category"] = 42
    report["records"][1]["flags"] = "litigation"
    del report["records"][2]["ticket_no"]
    report["period"] = "last week"
    status, problem, _ = _post(server, json.dumps(report).encode())
    assert status == 422
    locs = {tuple(e["loc"][:3]) for e in problem["errors"]}
    assert {("period",), ("records", 0, "category"), ("records", 1, "flags"), ("records", 2, "ticket_no")} <= locs


def test_unknown_query_parameters_are_named(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    status, problem, _ = _post(server, json.dumps(weekly()).encode(), path="/api/v1/reports?partail=true")
    assert status == 422 and "partail" in problem["detail"]


def test_a_ticket_twice_in_one_report_counts_once_and_the_later_text_wins(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    report = weekly()
    twin = dict(report["records"][0], content="同一工单的更正内容：积水已排除，但路面仍有坑洼。")
    report["records"].append(twin)
    assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report).status == 202
    status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    assert status["records"]["received"] == 11 and status["records"]["normalized"] == 10
    order = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/work-orders/{twin['ticket_no']}").body
    assert order["content"].startswith("同一工单的更正内容")


def test_200000_records_in_one_report_are_accepted(tmp_path: Path) -> None:
    records = [{"ticket_no": f"T{i:07d}", "received_at": "2026-11-16T09:00:00", "content": "路灯不亮"} for i in range(200_000)]
    body = json.dumps({"report_id": "TZ-2026-M11", "kind": "monthly", "period": {"start": "2026-11-01", "end": "2026-11-30"}, "records": records}).encode()
    assert len(body) < 32 * 1024 * 1024
    with running_gateway(tmp_path, workers=False) as (gateway, server):
        status, receipt, _ = _post(server, body)
        assert status == 202 and receipt["records"] == 200_000
        with gateway.uow.session_factory() as session:
            stored = session.scalar(select(Report))
            assert stored is not None and stored.record_count == 200_000 and stored.chunk_count == 40
            kept = session.scalars(select(ReportChunk.record_count).where(ReportChunk.report_pk == stored.id)).all()
            assert sum(kept) == 200_000


def test_a_50_mib_body_is_413_and_earlier_reports_are_unharmed(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly()).status == 202
    body = b'{"report_id": "BIG", "kind": "special", "summary": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    status, problem, _ = _post(server, body)
    assert status == 413
    wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    assert _reports(gateway) == 1


def test_a_revoked_key_and_a_rotated_secret(tmp_path: Path) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "clients:\n"
        "  - {key_id: old-center, secrets: [old-center-secret-0123456789], revoked: true}\n"
        "  - {key_id: tz, secrets: [previous-secret-0123456789, current-secret-0123456789]}\n",
        encoding="utf-8",
    )
    with running_gateway(tmp_path, config=config, client_keys="") as (gateway, server):
        refused = call(server.url, "old-center", "old-center-secret-0123456789", "push_report", weekly())
        assert refused.status == 401 and "revoked" in refused.body["detail"]
        assert call(server.url, "tz", "previous-secret-0123456789", "push_report", weekly("R-OLD-SECRET")).status == 202
        assert call(server.url, "tz", "current-secret-0123456789", "push_report", weekly("R-NEW-SECRET")).status == 202
        assert _reports(gateway) == 2
