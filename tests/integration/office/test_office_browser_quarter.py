"""季度议题, results made public and the SLA board in a real browser: Debian's headless Chromium driven by Playwright.

A week goes through the real pipeline first; a workstation's Table 1 on the flooding clue is filed as the API
would file it. Screenshots of each page are kept as test artefacts (test-artifacts/office/, or GATEWAY_TEST_ARTIFACTS).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from contracts.consultations import Consultation as Table1
from gateway.db.models import AuditEntry, Clue, QuarterTopic, Report, ResultEvaluation
from gateway.loop.table1 import FileTable1, file_table1
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.office import _clue, add
from tests.helpers.reports import CALLER_NAME, call, wait_for_state, weekly
from tests.helpers.scanner import findings_in
from tests.integration.office.test_office_browser import _apart, _log_in, _shot, browser  # noqa: F401 (the fixture)

MEMBERS = ["张振华", "刘秀英"]
RESPONSIBLE = "赵立新"


def test_a_quarter_s_topics_a_published_result_and_the_sla_board_in_chromium(tmp_path: Path, browser: Any) -> None:  # noqa: F811
    with running_gateway(tmp_path) as (gw, server):
        _apart(call, server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        _apart(wait_for_state, server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        add(gw, "bangongshi", "office")
        with gw.uow.session_factory() as s:  # the week made two clues; four more candidates, so that the fifth is the limit
            report = s.scalar(select(Report).where(Report.report_id == "TZ-2026-W47"))
            assert report is not None
            s.add_all([_clue(report, f"C-EXTRA-{n}", "urban", "consultation_topic", f"备选议题{n}：小区停车难", 0.5 - n / 10, "梨园镇")
                       for n in range(1, 5)])
            s.commit()
            flooding = s.scalar(select(Clue).where(Clue.committee_id == "urban", Clue.title.contains("云景里")))
            assert flooding is not None
        base = server.url

        # 季度议题: the quarter's hottest clues with their trend; five preliminary topics, then the limit.
        context, page = _log_in(browser, base, "bangongshi")
        page.click("a:has-text('季度议题')")
        page.goto(f"{base}/office/quarters/2026-Q4")
        assert "2026年第四季度协商议题" in page.inner_text("body") and flooding.title in page.inner_text("#proposals")
        assert page.locator("#proposals svg").count() >= 1
        for _ in range(5):
            page.click("#proposals button:has-text('列为初步议题')")
            assert "已列为初步议题" in page.inner_text("body")
        assert page.locator("#proposals button:has-text('列为初步议题')").count() == 0 and "已满5个" in page.inner_text("#proposals")
        # The final two, each with a note.
        for clue_id, note in ((flooding.clue_id, "积水问题群众反映集中，交梨园镇委员工作站协商"), ("C-EXTRA-1", "停车难列入下季度调研")):
            row = page.locator(f"#chosen-{clue_id}")
            row.locator("input[name=note]").fill(note)
            row.locator("button:has-text('确定为最终议题')").click()
            assert "已确定为最终议题" in page.inner_text("body")
        chosen = page.inner_text("#chosen")
        assert chosen.count("最终议题") >= 2 and "bangongshi" in chosen and "积水问题群众反映集中" in chosen
        assert page.locator("button:has-text('确定为最终议题')").count() == 0
        _shot(page, "quarter")
        with gw.uow.read_session() as s:
            marks = s.scalars(select(QuarterTopic).where(QuarterTopic.quarter == "2026-Q4")).all()
            assert len(marks) == 5 and sum(m.final for m in marks) == 2 and {m.marked_by for m in marks} == {"bangongshi"}

        # A workstation's Table 1 on the flooding clue; the chosen topic links to it, the clue page shows the result.
        document = Table1.model_validate({
            "workstation": "梨园镇委员工作站", "period": {"start": "2026-11-25", "end": "2026-11-25"},
            "topic": f"云景里积水点治理（居民{CALLER_NAME}反映）", "members": MEMBERS, "responsible_person": RESPONSIBLE,
            "items": [{"text": "疏通排水管道", "outcome": "on_site", "clue_ids": [flooding.clue_id]}],
        })
        file_table1(gw.uow(), FileTable1(client_id=CLIENT_KEY_ID, document=document, source="api"), routing=gw.routing, calendar=gw.calendar)
        page.reload()
        assert "梨园镇委员工作站" in page.inner_text(f"#chosen-{flooding.clue_id}")
        page.click(f"#chosen-{flooding.clue_id} a:has-text('梨园镇委员工作站')")
        assert page.url.endswith("#results") and "协商成果与成效" in page.inner_text("body")
        if flooding.topic_pk is not None:
            assert page.locator("#results svg").count() == 1 and "活动前" in page.inner_text("#effect-summary")
        page.check("input[name=rating][value=effective]")
        page.fill("#results textarea[name=text]", f"积水点已完成排水改造，居民{CALLER_NAME}（电话13812345678）表示满意，工单{flooding.ticket_nos[0]}已办结。")
        page.click("button:has-text('保存评价')")
        assert "成果评价已保存" in page.inner_text("body") and "13812345678" not in page.content()
        page.click("button:has-text('公示成果')")
        assert "已公示" in page.inner_text("#results")
        _shot(page, "clue-result")
        context.close()

        # /public/results without logging in: the result, and nobody's name, phone or ticket number.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        answer = page.goto(f"{base}/public/results")
        assert answer is not None and answer.status == 200 and page.url == f"{base}/public/results"
        body = page.inner_text("body")
        assert "协商成果公示" in body and "积水点已完成排水改造" in body and "成效明显" in body and "梨园镇委员工作站" in body
        html = page.content()
        assert findings_in(html, {CALLER_NAME, *MEMBERS, RESPONSIBLE}) == []
        assert "****" not in html  # not even what the masker leaves of a phone number
        assert [t for t in flooding.ticket_nos if t in html] == [] and flooding.clue_id not in html and "bangongshi" not in html
        assert context.cookies() == []
        _shot(page, "public-results")
        context.close()

        # The SLA board, a report's detail, the month's Table 2.
        context, page = _log_in(browser, base, "bangongshi")
        page.click("a:has-text('监测看板')")
        assert page.url == f"{base}/office/board"
        for part in ("#unacknowledged", "#deliveries", "#stuck", "#sync", "#loop"):
            assert page.is_visible(part)
        assert "未签收的线索包" in page.inner_text("#unacknowledged") and page.locator("svg[aria-label='需关注事项数']").count() == 1
        _shot(page, "board")
        page.click("#unacknowledged a:has-text('TZ-2026-W47')")
        assert page.url == f"{base}/office/board/reports/TZ-2026-W47" and "线索包与邮件" in page.inner_text("body")
        _shot(page, "board-report")
        page.goto(f"{base}/office/months/2026-11")
        table = page.inner_text("#table2")
        assert "梨园镇委员工作站" in table and "合计" in table
        download = context.request.get(f"{base}/office/months/2026-11/table2.xlsx")
        assert download.status == 200 and download.body()[:2] == b"PK"
        _shot(page, "month")
        context.close()
        with gw.uow.read_session() as s:
            evaluation = s.scalar(select(ResultEvaluation))
            assert evaluation is not None and evaluation.published and evaluation.published_by == "bangongshi"
            assert s.scalar(select(AuditEntry).where(AuditEntry.action == "result_publish", AuditEntry.username == "bangongshi")) is not None
