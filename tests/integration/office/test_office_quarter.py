"""季度议题 without a browser: office only, at most 5 preliminary then 2 final topics with a note, who and when, the deadline on the calendar."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from gateway.bootstrap import Gateway
from gateway.db.models import AuditEntry, QuarterTopic, Report
from gateway.office import followup_views
from gateway.office.quarter import deadline, deadline_state, quarter_of, shifted
from gateway.workdays import WorkCalendar
from tests.helpers.office import _clue, add, csrf_of
from tests.integration.office.client import login, run, seeded
from tests.integration.office.client import post as client_post

QUARTER = "2026-Q4"  # the seeded report's period (2026-11-16 to 22) falls in it


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    gateway = seeded(tmp_path)
    with gateway.uow.session_factory() as s:  # four more clues: seven to choose from
        report = s.scalar(select(Report))
        assert report is not None
        s.add_all([_clue(report, f"C-MORE-{n}", "urban", "consultation_topic", f"第{n}个备选议题", 5.0 - n, "梨园镇") for n in range(1, 5)])
        s.commit()
    add(gateway, "liyuan1", "workstation", workstation="梨园镇委员工作站")
    yield gateway
    gateway.close()


async def post(client: TestClient[Any, Any], path: str, **data: str) -> tuple[int, str]:
    return await client_post(client, path, token_from=f"/office/quarters/{QUARTER}", **data)


def test_only_the_office_sees_and_marks_the_quarter_s_topics(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "urban1")
        inbox = await (await client.get("/office/")).text()
        assert "季度议题" not in inbox  # not in its navigation
        answer = await client.get(f"/office/quarters/{QUARTER}")
        assert answer.status == 403 and "仅限区政协办公室" in await answer.text()
        answer = await client.post(f"/office/quarters/{QUARTER}/preliminary", data={"_csrf": csrf_of(inbox), "clue_id": "C-URBAN-1"})
        assert answer.status == 403
        assert (await client.get("/office/board")).status == 403
        assert (await client.get("/office/months/2026-11")).status == 403

    run(gw, test)
    with gw.uow.read_session() as s:
        assert s.scalars(select(QuarterTopic)).all() == []


def test_a_workstation_user_is_refused_too(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "liyuan1")
        assert (await client.get(f"/office/quarters/{QUARTER}")).status == 403

    run(gw, test)


def test_the_page_proposes_the_hottest_clues_of_the_quarter(gw: Gateway) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        answer = await client.get("/office/quarters", allow_redirects=False)
        assert answer.status == 303 and answer.headers["Location"] == f"/office/quarters/{quarter_of(followup_views.today())}"
        text = await (await client.get(f"/office/quarters/{QUARTER}")).text()
        assert "2026年第四季度协商议题" in text and "热点线索推荐" in text
        assert text.index("道路积水等问题") < text.index("幼儿园学位不足") < text.index("第1个备选议题") < text.index("第4个备选议题")
        assert text.count("列为初步议题</button>") == 7
        earlier = await (await client.get(f"/office/quarters/{shifted(QUARTER, -2)}")).text()
        assert "道路积水等问题" not in earlier and "这段时间没有线索" in earlier

    run(gw, test)


def test_five_preliminary_then_two_final_topics_with_a_note_who_and_when(gw: Gateway) -> None:
    five = ["C-URBAN-1", "C-EDU-1", "C-MORE-1", "C-MORE-2", "C-MORE-3"]

    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        base = f"/office/quarters/{QUARTER}"
        status, text = await post(client, f"{base}/final", clue_id="C-URBAN-1", note="先定最终")
        assert status == 422 and "须从本季度初步议题中确定" in text
        for clue in five:
            status, text = await post(client, f"{base}/preliminary", clue_id=clue)
            assert status == 200 and "已列为初步议题" in text
        status, text = await post(client, f"{base}/preliminary", clue_id="C-MORE-4")
        assert status == 422 and "已列5个初步议题，已达上限" in text
        page = await (await client.get(base)).text()
        assert "列为初步议题</button>" not in page and "已满5个" in page and "还可列0个" in page
        status, text = await post(client, f"{base}/preliminary", clue_id="C-URBAN-1")
        assert status == 422

        status, text = await post(client, f"{base}/final", clue_id="C-URBAN-1", note="  ")
        assert status == 422 and "请填写确定为最终议题的说明" in text
        status, text = await post(client, f"{base}/final", clue_id="C-URBAN-1", note="群众反映集中，转梨园镇委员工作站，联系电话13812345678")
        assert status == 200 and "已确定为最终议题" in text and "138****5678" in text and "13812345678" not in text
        status, _ = await post(client, f"{base}/final", clue_id="C-EDU-1", note="提案委建议")
        assert status == 200
        status, text = await post(client, f"{base}/final", clue_id="C-MORE-1", note="第三个")
        assert status == 422 and "已确定2个最终议题，已达上限" in text
        status, text = await post(client, f"{base}/preliminary/undo", clue_id="C-EDU-1")
        assert status == 422 and "请先撤销最终议题" in text
        # one final taken back, another one chosen instead
        assert (await post(client, f"{base}/final/undo", clue_id="C-EDU-1"))[0] == 200
        assert (await post(client, f"{base}/final", clue_id="C-MORE-1", note="改选"))[0] == 200
        assert (await post(client, f"{base}/preliminary/undo", clue_id="C-EDU-1"))[0] == 200
        assert (await post(client, f"{base}/preliminary", clue_id="C-MORE-4"))[0] == 200
        page = await (await client.get(base)).text()
        assert page.count("最终议题</span>") >= 2 and "office1" in page and "确定本季度最终议题" in page

    run(gw, test)
    with gw.uow.read_session() as s:
        marks = {gw_clue: m for gw_clue, m in ((m.clue_pk, m) for m in s.scalars(select(QuarterTopic).where(QuarterTopic.quarter == QUARTER)))}
        assert len(marks) == 5 and sum(m.final for m in marks.values()) == 2
        assert all(m.marked_by == "office1" and m.marked_at is not None for m in marks.values())
        assert all(m.final_by == "office1" and m.final_at is not None for m in marks.values() if m.final)
        actions = [(e.username, e.action, e.target) for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("quarter_%")).order_by(AuditEntry.id))]
    assert actions[0] == ("office1", "quarter_preliminary", f"{QUARTER}/C-URBAN-1")
    assert ("office1", "quarter_final", f"{QUARTER}/C-URBAN-1") in actions
    assert ("office1", "quarter_final_undo", f"{QUARTER}/C-EDU-1") in actions
    assert ("office1", "quarter_preliminary_undo", f"{QUARTER}/C-EDU-1") in actions


def test_the_deadline_on_the_official_calendar_with_hand_written_dates() -> None:
    calendar = WorkCalendar()
    # 2023-10-15 was a Sunday: the deadline moves to Monday the 16th. From Thursday 28 September, the National Day
    # holiday (29 September to 6 October) does not count and the make-up Saturday and Sunday (7 and 8 October) do:
    # 7, 8, 9, 10, 11, 12, 13 and 16 October.
    assert deadline(calendar, "2023-Q4") == date(2023, 10, 16)
    state = deadline_state(calendar, "2023-Q4", date(2023, 9, 28), [])
    assert state.state == "open" and state.working_days == 8 and "距截止还有8个工作日" in state.text
    # 2022-01-15 was a Saturday: Monday 17 January.
    assert deadline(calendar, "2022-Q1") == date(2022, 1, 17)
    # 2026: holidays 1 to 7 October, Saturday 10 October a working day; from Friday the 9th: 10, 12, 13, 14 and 15 October.
    assert deadline(calendar, "2026-Q4") == date(2026, 10, 15)
    state = deadline_state(calendar, "2026-Q4", date(2026, 10, 9), [])
    assert state.working_days == 5 and state.state == "open"
    assert deadline_state(calendar, "2026-Q4", date(2026, 10, 13), []).state == "soon"  # 14 and 15 left
    assert "今日截止" in deadline_state(calendar, "2026-Q4", date(2026, 10, 15), []).text
    # Past it with one final topic: overdue by Friday 16 and Monday 19 October 2026.
    state = deadline_state(calendar, "2026-Q4", date(2026, 10, 19), [None])
    assert state.state == "overdue" and state.working_days == 2 and "已逾期" in state.text and "尚差1个最终议题" in state.text
    from datetime import UTC, datetime
    on_time = [datetime(2026, 10, 14, 2, tzinfo=UTC), datetime(2026, 10, 15, 15, 59, tzinfo=UTC)]  # 23:59 Beijing on the 15th
    assert deadline_state(calendar, "2026-Q4", date(2026, 11, 1), on_time).state == "done"
    late = [datetime(2026, 10, 14, 2, tzinfo=UTC), datetime(2026, 10, 15, 16, 1, tzinfo=UTC)]  # 00:01 on the 16th
    state = deadline_state(calendar, "2026-Q4", date(2026, 11, 1), late)
    assert state.state == "done_late" and state.working_days == 1


def test_the_page_shows_the_reminder_then_the_overdue_mark(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    async def test(client: TestClient[Any, Any]) -> None:
        await login(client, "office1")
        monkeypatch.setattr(followup_views, "today", lambda: date(2026, 10, 9))
        text = await (await client.get(f"/office/quarters/{QUARTER}")).text()
        assert "提醒：本季度议题应于2026年10月15日前确定（距截止还有5个工作日）" in text and "已逾期" not in text
        monkeypatch.setattr(followup_views, "today", lambda: date(2026, 10, 19))
        text = await (await client.get(f"/office/quarters/{QUARTER}")).text()
        assert "已逾期" in text and "已超过2个工作日" in text and "尚差2个最终议题" in text

    run(gw, test)
