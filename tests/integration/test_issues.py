"""Near-duplicates become one issue, across reports; every work order gets its committee; unsure categories go to triage."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, record, wait_for_state, weekly

FLOOD = "云景里小区门口道路积水严重，一下雨就没过脚踝，已经好几年了，希望彻底解决排水问题。"


def test_near_duplicates_join_one_issue_this_week_and_next(tmp_path: Path) -> None:
    week1 = weekly("W47", [record(f"A{i}", content=prefix + FLOOD) for i, prefix in enumerate(["", "再次反映：", "邻居们都很着急，"])]
                   + [record("B1", content="小区东门的路灯坏了一个月了，晚上很黑，请尽快修好。")])
    week2 = weekly("W48", [record("A9", content="希望尽快处理，" + FLOOD)])
    week2["period"] = {"start": "2026-11-23", "end": "2026-11-29"}
    with running_gateway(tmp_path) as (_, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", week1)
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "W47")
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", week2)
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "W48")
        view = {t: call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/work-orders/{t}").body for t in ("A0", "A1", "A2", "A9", "B1")}
    assert view["A0"]["issue_id"] == view["A1"]["issue_id"] == view["A2"]["issue_id"] == view["A9"]["issue_id"]
    assert view["B1"]["issue_id"] != view["A0"]["issue_id"]
    assert {v["committee"] for v in view.values()} == {"城建环保委员会"}


def test_an_unsure_inferred_category_goes_to_triage_and_says_so(tmp_path: Path) -> None:
    report = weekly("W47", [record("Q1", category=[], content="请问这个事情找谁", channel="app"),
                            record("Q2", category="其他", content="孩子所在小学的老师违规补课收费，学校和教育局都不管", channel="web")])
    with running_gateway(tmp_path, category_min_confidence=0.99) as (_, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report)
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "W47")
        unsure = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/Q1").body
        sure = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/Q2").body
    assert unsure["category_inferred"] is True and unsure["category_confidence"] < 0.99
    assert unsure["committee"] == "区政协办公室"  # triage
    assert sure["category_inferred"] is True and sure["category"] == ["教育文体"]
    assert sure["committee"] == ("教科卫体委员会" if sure["category_confidence"] >= 0.99 else "区政协办公室")


def test_a_report_in_several_chunks_counts_each_ticket_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.intake

    monkeypatch.setattr(gateway.intake, "CHUNK_SIZE", 3)  # 11 records: 4 chunks, normalized by several worker threads
    report = weekly()
    report["records"].append(dict(report["records"][0], content="同一工单在后面的分片里又出现了一次，路面仍有坑洼。"))
    with running_gateway(tmp_path) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report)
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        order = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/work-orders/{report['records'][0]['ticket_no']}").body
    assert status["records"]["received"] == 11 and status["records"]["normalized"] == 10
    assert status["records"]["duplicates"] == 0 and status["records"]["routed"] == 9
    assert order["content"].startswith("同一工单在后面的分片里")


def test_chunks_normalized_out_of_order_keep_the_later_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.intake
    from gateway.bootstrap import bootstrap
    from gateway.intake import ReceiveReport, handle_receive_report
    from gateway.normalize import handle_normalize_report

    monkeypatch.setattr(gateway.intake, "CHUNK_SIZE", 2)
    report = weekly("W47", [record("X1", content="最早的内容"), record("X2"), record("X1", content="后来更正的内容")])
    gw = bootstrap(data_dir=tmp_path)
    gw.uow.dispatch = None
    try:
        handle_receive_report(ReceiveReport(CLIENT_KEY_ID, report), gw.uow())
        for seq in (1, 0):  # the later chunk first, as a second worker may
            handle_normalize_report(1, gw.uow(), normalizer=gw.normalizer, keep_raw=False, seq=seq)
        from sqlalchemy import select

        from gateway.db.models import Report, WorkOrder

        with gw.uow.session_factory() as session:
            assert session.scalar(select(WorkOrder.content_masked).where(WorkOrder.ticket_no == "X1")) == "后来更正的内容"
            assert session.scalar(select(Report.state)) == "normalized"
    finally:
        gw.close()
