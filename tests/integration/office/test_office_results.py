"""Results and their effect, /public/results, 月报 and the SLA board without a browser (aiohttp's test client)."""
from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from contracts.consultations import Consultation as Table1
from gateway.bootstrap import Gateway
from gateway.db.models import AuditEntry, Clue, Delivery, FeedbackPush, Packet, Report, ResultEvaluation, SyncRun, Topic, WorkOrder
from gateway.loop.table1 import FileTable1, file_table1
from gateway.loop.table2 import content_hash, feedback_document
from tests.helpers.scanner import findings_in
from tests.integration.office.client import login, run, seeded
from tests.integration.office.client import post as client_post

MEMBERS = ["张振华", "刘秀英"]
RESPONSIBLE = "赵立新"
ACTIVITY = date(2026, 11, 18)  # a Wednesday: its week starts on Monday 16 November


def seed_results(gw: Gateway) -> list[str]:
    """A topic behind the flooding clue: 5 work orders a week for 8 weeks, then 1 a week for 4; a Table 1 names the clue."""
    tickets = []
    with gw.uow.session_factory() as s:
        topic = Topic(topic_id="T-1", title="梨园镇云景里：道路积水", keywords={"积水": 1.0}, places=["梨园镇"], work_order_count=0,
                      first_seen_at=datetime(2026, 9, 21, tzinfo=UTC), last_seen_at=datetime(2026, 12, 14, tzinfo=UTC))
        s.add(topic)
        s.flush()
        clue = s.scalar(select(Clue).where(Clue.clue_id == "C-URBAN-1"))
        assert clue is not None
        clue.topic_pk = topic.id
        for week in range(13):
            monday = datetime(2026, 9, 21, 2, tzinfo=UTC) + timedelta(weeks=week)
            if week == 8:
                continue  # the activity's week: none
            for n in range(5 if week < 8 else 1):
                ticket = f"2609{week:02d}{n:02d}0001"
                tickets.append(ticket)
                s.add(WorkOrder(ticket_no=ticket, received_at=monday + timedelta(days=n % 5), category=["城乡建设"], street="梨园镇",
                                content_masked="云景里门口积水，电话138****5678", topic_pk=topic.id))
        s.commit()
    document = Table1.model_validate({
        "workstation": "梨园镇委员工作站", "period": {"start": "2026-11-18", "end": "2026-11-18"},
        "topic": "云景里积水点治理协商（居民王建国反映，联系电话13812345678；赵立新牵头）", "members": MEMBERS, "responsible_person": RESPONSIBLE,
        "items": [{"text": "疏通排水管道", "outcome": "on_site", "clue_ids": ["C-URBAN-1"]},
                  {"text": "改造雨水篦子", "outcome": "short_term", "clue_ids": ["C-URBAN-1"], "responsible": "孙志强"}],
    })
    file_table1(gw.uow(), FileTable1(client_id="cc", document=document, source="api"), routing=gw.routing, calendar=gw.calendar,
                now=datetime(2026, 11, 19, 2, tzinfo=UTC))
    return tickets


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    gateway = seeded(tmp_path)
    yield gateway
    gateway.close()


async def post(client: TestClient[Any, Any], path: str, **data: str) -> tuple[int, str]:
    return await client_post(client, path, token_from="/office/clues/C-URBAN-1", **data)


def test_no_result_card_before_an_activity_and_no_evaluation_either(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "协商成果与成效" not in page
        status, text = await post(client, "/office/clues/C-URBAN-1/evaluation", rating="effective", text="很好")
        assert status == 422 and "尚无已报送的协商议事活动" in text

    run(gw, test)


def test_the_clue_page_shows_the_topic_s_weekly_volume_before_and_after_the_activity(gw: Gateway) -> None:
    seed_results(gw)

    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "协商成果与成效" in page and "2026年11月18日" in page and "梨园镇委员工作站" in page
        assert "2项：现场解决1项、短期内协调解决1项" in page
        # 8 weeks of 5 before, the activity's week, 4 weeks of 1 after (as far as the work orders received cover)
        assert "活动前8周平均每周5.0件，活动后4周平均每周1.0件，下降80%。" in page
        chart = page[page.index('aria-label="活动前后每周工单数"'):]
        chart = chart[:chart.index("</svg>")]
        assert chart.count("<rect") == 13 and "协商活动当周" in chart and "11-16" in chart and "#4f9a6a" in chart
        # a committee sees the result of its clue, but cannot evaluate it
        await login(client, "urban1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "下降80%" in page and "保存评价" not in page
        status, _ = await post(client, "/office/clues/C-URBAN-1/evaluation", rating="effective", text="很好")
        assert status == 403
        status, _ = await post(client, "/office/clues/C-URBAN-1/publish", publish="1")
        assert status == 403

    run(gw, test)


def test_evaluate_publish_unpublish_and_the_public_page_names_nobody(gw: Gateway) -> None:
    tickets = seed_results(gw)
    with gw.uow.read_session() as s:
        tickets += [t for (ts,) in s.execute(select(Clue.ticket_nos)) for t in ts]
        tickets += list(s.scalars(select(WorkOrder.ticket_no)))
    typed = "经协商，积水点已完成排水改造，居民王建国（电话13812345678）表示满意；工单26111600000已办结，责任人赵立新。"

    async def test(client: TestClient[Any, Any]) -> None:
        empty = await client.get("/public/results")
        assert empty.status == 200 and "暂无公示的协商成果" in await empty.text()
        assert "Set-Cookie" not in empty.headers and "script-src" not in empty.headers["Content-Security-Policy"]
        await login(client, "office1")
        status, text = await post(client, "/office/clues/C-URBAN-1/publish", publish="1")
        assert status == 422 and "请先填写成果评价" in text
        status, text = await post(client, "/office/clues/C-URBAN-1/evaluation", rating="best", text="好")
        assert status == 422 and "请选择成效评价" in text
        status, text = await post(client, "/office/clues/C-URBAN-1/evaluation", rating="effective", text=typed)
        assert status == 200 and "成果评价已保存" in text and "13812345678" not in text and "138****5678" in text
        assert "公示成果</button>" in text and "未公示" in text
        assert "积水点" not in await (await client.get("/public/results")).text()  # not yet published

        status, text = await post(client, "/office/clues/C-URBAN-1/publish", publish="1")
        assert status == 200 and "已公示" in text and "撤回公示" in text
        client.session.cookie_jar.clear()  # no login from here on
        answer = await client.get("/public/results")
        public = await answer.text()
        assert answer.status == 200 and "协商成果公示" in public
        assert "梨园镇云景里：道路积水" in public and "成效明显" in public and "积水点已完成排水改造" in public
        assert "下降80%" in public and "<svg" in public and "2026年11月18日" in public
        # nobody's name, no phone number, no ticket number: the project's personal-data scanner, and the numbers themselves
        assert findings_in(public, {"王建国", *MEMBERS, RESPONSIBLE, "孙志强"}) == []
        assert [t for t in tickets if t in public] == [] and "C-URBAN-1" not in public and "[编号]" in public
        assert "office1" not in public and "138****5678" not in public and "电话[已隐去]" in public  # not even the masked number
        await login(client, "office1")
        status, text = await post(client, "/office/clues/C-URBAN-1/publish", publish="0")
        assert status == 200 and "已撤回公示" in text
        client.session.cookie_jar.clear()
        assert "积水点" not in await (await client.get("/public/results")).text()

    run(gw, test)
    with gw.uow.read_session() as s:
        row = s.scalar(select(ResultEvaluation))
        assert row is not None and row.evaluated_by == "office1" and not row.published and row.published_by == "office1"
        assert "13812345678" not in row.text
        actions = [(e.username, e.action) for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("result_%")).order_by(AuditEntry.id))]
    assert actions == [("office1", "result_evaluate"), ("office1", "result_publish"), ("office1", "result_unpublish")]


def test_the_month_s_table2_on_screen_with_the_xlsx_and_the_feedback_push(gw: Gateway) -> None:
    seed_results(gw)
    with gw.uow.session_factory() as s:
        document = feedback_document(s, "2026-11")
        s.add(FeedbackPush(month="2026-11", revision=1, idempotency_key="feedback-2026-11-r1", content_hash=content_hash(document), state="sent",
                           document=document, attempts=1, last_status=202, sent_at=datetime(2026, 12, 1, 1, tzinfo=UTC)))
        s.commit()

    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        page = await (await client.get("/office/months/2026-11")).text()
        assert "协商议事厅2026年11月协商议事活动开展情况汇总表（附表2）" in page
        table = page[page.index('id="table2"'):page.index("</table>", page.index('id="table2"'))]
        assert "梨园镇委员工作站" in table and ">2<" in table and "合计" in table
        assert "第1版" in page and "已推送" in page and "feedback-2026-11-r1" in page and "已有变化" not in page
        answer = await client.get("/office/months/2026-11/table2.xlsx")
        assert answer.status == 200 and answer.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert "attachment" in answer.headers["Content-Disposition"]
        cells = [c for row in load_workbook(io.BytesIO(await answer.read())).active.iter_rows(values_only=True) for c in row if c is not None]
        assert "梨园镇委员工作站" in cells and any("附表2" in str(c) or "汇总表" in str(c) for c in cells)
        december = await (await client.get("/office/months/2026-12")).text()
        assert "本月没有已报送的协商议事活动" in december and "本月反馈尚未生成和推送" in december
        wrong = await client.get("/office/months/2026-13")
        assert wrong.status == 404 and "月份格式应为" in await wrong.text()

    run(gw, test)
    # the month changes after the push: the page says the next push makes a new revision
    document = Table1.model_validate({"workstation": "梨园镇委员工作站", "period": {"start": "2026-11-25", "end": "2026-11-25"},
                                      "topic": "再次协商", "items": [{"text": "复查", "outcome": "on_site"}]})
    file_table1(gw.uow(), FileTable1(client_id="cc", document=document, source="api"), routing=gw.routing, calendar=gw.calendar)

    async def again(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        assert "下次推送将生成新版本（第2版）" in await (await client.get("/office/months/2026-11")).text()

    run(gw, again)


def test_the_sla_board_shows_what_the_office_must_watch_each_linking_to_its_detail(gw: Gateway) -> None:
    now = datetime.now(UTC)
    with gw.uow.session_factory() as s:
        for packet in s.scalars(select(Packet)):
            packet.delivered_at = now - timedelta(hours=72 if packet.committee_id == "urban" else 2)
            s.add(Delivery(packet_pk=packet.id, recipient=f"{packet.committee_id}@example.org", message_id=f"<{packet.packet_id}@x>",
                           state="failed" if packet.committee_id == "education" else "sent", attempts=5,
                           last_error="550 mailbox unavailable" if packet.committee_id == "education" else None))
        stuck = Report(client_id="cc", report_id="TZ-2026-W48", receipt_id="R-2", kind="weekly", body_sha256="1" * 64, record_count=1,
                       state="stuck", failures=5, last_error="normalize failed on record 3 (电话13812345678)", stuck_at=now)
        s.add(stuck)
        s.add(SyncRun(source="cc", state="failed", started_at=now - timedelta(hours=1), finished_at=now, error="timeout"))
        s.add(SyncRun(source="cc", state="finished", started_at=now - timedelta(days=1), finished_at=now - timedelta(days=1), reports=3))
        s.commit()

    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        page = await (await client.get("/office/board")).text()
        assert 'aria-label="需关注事项数"' in page
        unacked = page[page.index('id="unacknowledged"'):page.index('id="deliveries"')]
        assert "共4个，其中超时1个" in unacked and "超时未签收" in unacked and 'href="/office/clues/C-URBAN-1"' in unacked
        deliveries = page[page.index('id="deliveries"'):page.index('id="stuck"')]
        assert "education@example.org" in deliveries and "550 mailbox unavailable" in deliveries and "urban@example.org" not in deliveries
        assert 'href="/office/board/reports/TZ-2026-W47"' in deliveries
        stuck_part = page[page.index('id="stuck"'):page.index('id="sync"')]
        assert 'href="/office/board/reports/TZ-2026-W48"' in stuck_part and "138****5678" in stuck_part and "13812345678" not in page
        sync = page[page.index('id="sync"'):]
        assert "失败" in sync and "timeout" in sync and 'href="/office/board/syncs"' in sync
        detail = await (await client.get("/office/board/reports/TZ-2026-W47")).text()
        assert "P000001-education" in detail and "education@example.org" in detail and "发送失败" in detail
        detail = await (await client.get("/office/board/reports/TZ-2026-W48")).text()
        assert "处理受阻" in detail and "normalize failed" in detail
        assert (await client.get("/office/board/reports/NO-SUCH")).status == 404
        runs = await (await client.get("/office/board/syncs")).text()
        assert runs.count("<tr>") == 3 and "已完成" in runs

    run(gw, test)
