"""转交, 附表1 online and the 督办 board, without a browser (aiohttp's test client; docs/office.md).

Dates are hand-written days of the official calendar: an activity on
Wednesday 2026-09-30 is due on Saturday 2026-10-10 (国庆 1–7 October off, 8–10
October working days, the 10th a make-up day), so a Table 1 filed on the 10th
is on time and one filed on Sunday the 11th is late.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.bootstrap import Gateway
from gateway.db.models import AuditEntry, ClueForward, Consultation, ConsultationRevision, Supervision
from contracts.consultations import SupervisionUpdate
from gateway.loop.forms_xlsx import read_table1
from gateway.loop.supervision import update_supervision
from gateway.loop.table2 import monthly_summary
from gateway.office import table1_form
from tests.helpers.office import add, csrf_of
from tests.integration.office.client import Client, run, seeded
from tests.integration.office.client import login as log_in

LIYUAN = "梨园镇委员工作站"
YONGSHUN = "永顺镇委员工作站"


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    gateway = seeded(tmp_path)
    add(gateway, "edu1", "committee", committee="education")
    add(gateway, "liyuan1", "workstation", workstation=LIYUAN)
    add(gateway, "yongshun1", "workstation", workstation=YONGSHUN)
    yield gateway
    gateway.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the time a filing arrives (and the board's today)."""
    def at(moment: datetime) -> None:
        monkeypatch.setattr(table1_form, "now", lambda: moment)
    at(datetime(2026, 10, 9, 2, 0, tzinfo=UTC))
    return at


def beijing(y: int, m: int, d: int, hour: int = 16) -> datetime:
    return datetime(y, m, d, hour - 8, 0, tzinfo=UTC)


async def login(client: Client, username: str) -> None:
    client.session.cookie_jar.clear()  # a new user, not one session carried over
    await log_in(client, username)


async def token(client: Client, path: str = "/office/") -> str:
    return csrf_of(await (await client.get(path)).text())


async def forward(client: Client, clue: str, station: str, note: str = "请研究") -> Any:
    return await client.post(f"/office/clues/{clue}/forward", data={"_csrf": await token(client), "workstation": station, "note": note},
                             allow_redirects=False)


def table1(**fields: Any) -> dict[str, str]:
    """The form's fields: a 2026-09-30 activity of 梨园镇委员工作站 with one item unless told otherwise."""
    data = {"rows": "10", "start": "2026-09-30", "end": "2026-09-30", "topic": "云景里小区道路积水治理", "members": "张委员、李委员",
            "item1_text": "疏通云景里雨水管线", "item1_outcome": "on_site", "responsible_person": "刘站长", "filled_on": "2026-10-09"}
    data.update({k: str(v) for k, v in fields.items()})
    return {k: v for k, v in data.items() if v != "-"}


async def file(client: Client, data: dict[str, Any]) -> Any:
    return await client.post("/office/table1/new", data={"_csrf": await token(client, "/office/table1/new"), **data}, allow_redirects=False)


def audit(gw: Gateway, action: str) -> list[AuditEntry]:
    with gw.uow.read_session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# ---- 转交 ---------------------------------------------------------------------------------------------------


def test_a_committee_forwards_a_clue_and_only_that_workstation_sees_it(gw: Gateway) -> None:
    async def test(client: Client) -> None:
        await login(client, "liyuan1")
        assert "暂无转交本工作站的线索" in await (await client.get("/office/")).text()
        assert (await client.get("/office/clues/C-URBAN-1")).status == 403

        await login(client, "urban1")
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "转交委员工作站" in page and LIYUAN in page and "教育界别活动组" not in page  # its own workstations only
        answer = await forward(client, "C-URBAN-1", LIYUAN, "请结合社区调研，联系人13812345678")
        assert answer.status == 303 and answer.headers["Location"] == "/office/clues/C-URBAN-1?done=forward"
        page = await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "已转交" in page and "138****5678" in page and "13812345678" not in page
        assert "已转交" in await (await client.get("/office/?state=forwarded")).text()
        again = await forward(client, "C-URBAN-1", LIYUAN)
        assert again.status == 422 and "无需重复转交" in await again.text()
        other = await forward(client, "C-URBAN-1", "教育界别活动组")
        assert other.status == 422 and "不是本委室联系的委员工作站" in await other.text()
        assert (await forward(client, "C-EDU-1", "教育界别活动组")).status == 403  # not its clue

        await login(client, "liyuan1")
        inbox = await (await client.get("/office/")).text()
        assert "道路积水等问题" in inbox and "幼儿园学位不足" not in inbox and "共 1 条" in inbox
        page = await client.get("/office/clues/C-URBAN-1")
        assert page.status == 200 and "138****5678" in await page.text() and "填报协商议事活动开展情况表" in await page.text()
        assert (await client.get("/office/clues/C-EDU-1")).status == 403
        refused = await forward(client, "C-URBAN-1", YONGSHUN)
        assert refused.status == 403 and "委员工作站不能转交线索" in await refused.text()

        await login(client, "yongshun1")
        assert (await client.get("/office/clues/C-URBAN-1")).status == 403
        assert "道路积水" not in await (await client.get("/office/")).text()

    run(gw, test)
    entries = audit(gw, "forward")
    assert [(e.username, e.target, e.detail["workstation"]) for e in entries] == [("urban1", "C-URBAN-1", LIYUAN)]
    assert entries[0].detail["note"] == "请结合社区调研，联系人138****5678"


def test_the_office_forwards_a_triage_clue_to_any_workstation_and_a_post_without_the_token_is_refused(gw: Gateway) -> None:
    async def test(client: Client) -> None:
        await login(client, "office1")
        forged = await client.post("/office/clues/C-OFFICE-1/forward", data={"workstation": LIYUAN, "note": "x"})
        assert forged.status == 403 and "安全校验码" in await forged.text()
        assert (await forward(client, "C-OFFICE-1", YONGSHUN)).status == 303

    run(gw, test)
    with gw.uow.read_session() as s:
        assert [(f.workstation, f.committee_id, f.username) for f in s.scalars(select(ClueForward))] == [(YONGSHUN, "urban", "office1")]


# ---- 附表1 ----------------------------------------------------------------------------------------------------


def test_a_workstation_files_a_table1_on_time_on_the_make_up_working_day(gw: Gateway, clock: Callable[[datetime], None]) -> None:
    clock(beijing(2026, 10, 10))  # Saturday, a make-up working day: the third working day after 30 September

    async def test(client: Client) -> None:
        await login(client, "urban1")
        await forward(client, "C-URBAN-1", LIYUAN)
        await login(client, "liyuan1")
        form = await (await client.get("/office/table1/new?clue=C-URBAN-1")).text()
        assert "协商议事活动开展情况表" in form and "现场解决" in form and "短期内可协调解决（1至2个月）" in form
        assert '<option value="C-URBAN-1" selected>' in form
        answer = await file(client, table1(item1_clues="C-URBAN-1", item2_text="协调排水集团改造管网", item2_outcome="short_term",
                                          item2_clues="C-URBAN-1"))
        assert answer.status == 303, await answer.text()
        page = await (await client.get(answer.headers["Location"])).text()
        assert "情况表已报送" in page and "按时报送" in page and "2026年10月10日" in page
        assert 'id="total-on_site">1<' in page and 'id="total-short_term">1<' in page
        # the clue: a Table 1 names it and its item 2 is not resolved on site yet → 协商中 (until its supervision is done)
        assert "协商中" in await (await client.get("/office/clues/C-URBAN-1")).text()

    run(gw, test)
    with gw.uow.read_session() as s:
        c = s.scalar(select(Consultation))
        assert c is not None and c.workstation == LIYUAN and c.due_on == date(2026, 10, 10) and not c.late and c.source == "office"
        assert c.client_id == "office:liyuan1" and c.committee_id == "urban"
        assert [s_.outcome for s_ in s.scalars(select(Supervision))] == ["short_term"]
    assert [(e.username, e.target, e.detail["late"]) for e in audit(gw, "table1_file")] == [("liyuan1", "T1-000001", False)]


def test_filed_the_day_after_it_is_late_and_a_revision_does_not_change_that(gw: Gateway, clock: Callable[[datetime], None]) -> None:
    async def test(client: Client) -> None:
        await login(client, "liyuan1")
        clock(beijing(2026, 10, 11, 9))  # Sunday: a day after the due date
        first = await file(client, table1(activity_id="LY-2026-09"))
        assert first.status == 303
        assert "逾期报送" in await (await client.get(first.headers["Location"])).text()
        clock(beijing(2026, 10, 12))
        second = await file(client, table1(activity_id="LY-2026-09", revise="T1-000001", item1_text="疏通云景里雨水管线并清掏雨箅"))
        assert second.status == 303 and second.headers["Location"].endswith("?done=revised")
        page = await (await client.get("/office/table1/T1-000001")).text()
        assert "第2版" in page and "逾期报送" in page and "清掏雨箅" in page and "网页填报" in page
        same = await file(client, table1(activity_id="LY-2026-09", item1_text="疏通云景里雨水管线并清掏雨箅"))
        assert same.headers["Location"].endswith("?done=unchanged")
        edit = await (await client.get("/office/table1/T1-000001/edit")).text()
        assert "清掏雨箅" in edit and 'name="revise" value="T1-000001"' in edit and "报送修订版" in edit

    run(gw, test)
    with gw.uow.read_session() as s:
        c = s.scalar(select(Consultation))
        assert c is not None and c.revision == 2 and c.late
        assert len(s.scalars(select(ConsultationRevision)).all()) == 2


@pytest.mark.parametrize("fields, message", [
    ({"item1_outcome": "-"}, "第1项：请在“现场解决”“短期内可协调解决”“未解决但后续可形成社情民意信息或提案”中选择一种"),
    ({"item1_text": "-", "item1_outcome": "-"}, "请至少填写一项协商议事具体事项"),
    ({"item3_outcome": "unresolved"}, "第3项：请填写协商议事具体事项"),
    ({"end": "2026-09-29"}, "活动时间：结束日期早于开始日期"),
    ({"start": "-", "end": "-"}, "活动时间：请填写开始和结束日期"),
    ({"topic": "-"}, "请填写协商议事主题"),
    ({"item1_refs": "C999999-999"}, "第1项：线索编号“C999999-999”在平台中不存在"),
    ({"item1_refs": "2611169999999"}, "第1项：工单编号“2611169999999”在平台中不存在"),
])
def test_the_form_s_problems_are_the_contract_s_and_the_filing_s_said_in_chinese(gw: Gateway, clock: Callable[[datetime], None],
                                                                                   fields: dict[str, str], message: str) -> None:
    async def test(client: Client) -> None:
        await login(client, "liyuan1")
        answer = await file(client, table1(**fields))
        text = await answer.text()
        assert answer.status == 422 and "情况表未能报送" in text and message in text, text[text.find("form-errors"):][:600]
        assert "张委员、李委员" in text  # what was typed is kept

    run(gw, test)
    with gw.uow.read_session() as s:
        assert s.scalar(select(Consultation)) is None


def test_who_files_and_sees_which_table1(gw: Gateway, clock: Callable[[datetime], None]) -> None:
    async def test(client: Client) -> None:
        await login(client, "liyuan1")
        forged = await client.post("/office/table1/new", data=table1())
        assert forged.status == 403
        # a workstation files for itself, whatever the form says
        assert (await file(client, table1(workstation=YONGSHUN))).status == 303
        await login(client, "office1")
        page = await (await client.get("/office/table1/new")).text()
        assert "<select name=\"workstation\">" in page
        assert (await file(client, table1(workstation="教育界别活动组", topic="学位"))).status == 303
        missing = await file(client, table1(workstation="不存在的工作站"))
        assert missing.status == 422 and "请选择站（室）或活动组" in await missing.text()
        await login(client, "yongshun1")
        assert (await client.get("/office/table1/T1-000001")).status == 403
        assert "T1-000001" not in await (await client.get("/office/table1/")).text()
        await login(client, "edu1")
        listed = await (await client.get("/office/table1/")).text()
        assert "T1-000002" in listed and "T1-000001" not in listed and "填报新的情况表" not in listed
        assert (await client.get("/office/table1/new")).status == 403
        assert (await client.get("/office/table1/T1-000001")).status == 403
        await login(client, "liyuan1")
        download = await client.get("/office/table1/T1-000001/download")
        assert download.status == 200 and download.content_type.endswith("spreadsheetml.sheet")
        assert "attachment" in download.headers["Content-Disposition"]
        doc = read_table1(await download.read())
        assert doc.workstation == LIYUAN and doc.members == ["张委员", "李委员"] and doc.items[0].text == "疏通云景里雨水管线"
        assert doc.period.start == date(2026, 9, 30) and doc.filled_on == date(2026, 10, 9)

    run(gw, test)
    with gw.uow.read_session() as s:
        assert [c.workstation for c in s.scalars(select(Consultation).order_by(Consultation.id))] == [LIYUAN, "教育界别活动组"]


def test_an_online_table1_counts_in_table2(gw: Gateway, clock: Callable[[datetime], None]) -> None:
    async def test(client: Client) -> None:
        await login(client, "liyuan1")
        await file(client, table1(item2_text="协调排水集团改造管网", item2_outcome="short_term", item3_text="形成社情民意信息", item3_outcome="unresolved"))

    run(gw, test)
    with gw.uow.read_session() as s:
        summary = monthly_summary(s, "2026-09")
    assert summary.rows == [{"workstation": LIYUAN, "topic": "云景里小区道路积水治理", "items": 3, "on_site": 1, "short_term": 1, "unresolved": 1}]


# ---- 督办 -----------------------------------------------------------------------------------------------------


def test_the_board_puts_overdue_first_counts_working_days_and_updates_through_update_supervision(
        gw: Gateway, clock: Callable[[datetime], None]) -> None:
    async def test(client: Client) -> None:
        await login(client, "liyuan1")
        clock(beijing(2026, 9, 1))
        await file(client, table1(start="2026-08-31", end="2026-08-31", topic="早先的议题", item1_text="协调停车", item1_outcome="short_term"))
        await file(client, table1(item1_text="协调排水", item1_outcome="short_term"))
        # 2026-08-31 + 60 days = 2026-10-30 (Friday); 2026-09-30 + 60 = 2026-11-29
        clock(beijing(2026, 11, 3))
        board = await (await client.get("/office/supervision/")).text()
        assert board.index('id="sv-S-000001"') < board.index('id="sv-S-000002"')  # the overdue one first
        # due Friday 30 October: overdue Monday 2 and Tuesday 3 November
        assert "逾期2个工作日" in board and 'class="is-overdue"' in board and "其中逾期 <b id=\"overdue-count\">1</b> 项" in board
        assert "剩余18个工作日" in board  # due Sunday 29 November: 4–6, 9–13, 16–20, 23–27 November

        entry = await client.get("/office/supervision/S-000001")
        page = await entry.text()
        assert entry.status == 200 and "附表1第1版报送（网页填报）" in page
        sent = await client.post("/office/supervision/S-000001", data={
            "_csrf": csrf_of(page), "assigned_unit": "区交通委", "progress": "已施划停车位120个，联系人13812345678", "state": "done",
            "note": "经回访群众满意", "reporting_date": "2026-11-03"}, allow_redirects=False)
        assert sent.status == 303
        page = await (await client.get(sent.headers["Location"])).text()
        assert "已保存" in page and "已办结" in page and "138****5678" in page and "13812345678" not in page
        assert "办理状态：已办结" in page and "备注：经回访群众满意" in page
        bad = await client.post("/office/supervision/S-000001", data={"_csrf": csrf_of(page), "reporting_date": "十一月"})
        assert bad.status == 422 and "报送日期：请按“2026-11-20”的格式填写日期" in await bad.text()
        forged = await client.post("/office/supervision/S-000001", data={"state": "open"})
        assert forged.status == 403
        assert "S-000001" not in await (await client.get("/office/supervision/")).text()  # done: only with show=all
        assert "S-000001" in await (await client.get("/office/supervision/?show=all")).text()

        # an update through the API (or the sheet) is in the history too: update_supervision writes it, whichever way it came
        await asyncio.get_running_loop().run_in_executor(None, lambda: update_supervision(
            gw.uow(), "S-000002", SupervisionUpdate(progress="已约谈排水集团"), workstation_of_client=LIYUAN, by="api:liyuan-key"))
        history = await (await client.get("/office/supervision/S-000002")).text()
        assert "接口（liyuan-key）" in history and "进展情况：已约谈排水集团" in history

        await login(client, "yongshun1")
        assert (await client.get("/office/supervision/S-000002")).status == 403
        assert "S-000002" not in await (await client.get("/office/supervision/")).text()
        await login(client, "urban1")
        assert "S-000002" in await (await client.get("/office/supervision/")).text()
        await login(client, "edu1")
        assert (await client.get("/office/supervision/S-000002")).status == 403

    run(gw, test)
    with gw.uow.read_session() as s:
        entry = s.scalar(select(Supervision).where(Supervision.supervision_id == "S-000001"))
        assert entry is not None and entry.state == "done" and entry.closed_at is not None and entry.assigned_unit == "区交通委"
        assert entry.reporting_date == date(2026, 11, 3)
    updates = audit(gw, "supervision_update")
    assert [(e.username, e.target, e.detail["changes"].get("state"), e.detail["note"]) for e in updates] == [
        ("liyuan1", "S-000001", "done", "经回访群众满意"), ("api:liyuan-key", "S-000002", None, "")]


def test_a_clue_is_in_consultation_until_its_supervision_is_done_then_consulted(gw: Gateway, clock: Callable[[datetime], None]) -> None:
    async def test(client: Client) -> None:
        await login(client, "urban1")
        await forward(client, "C-URBAN-1", LIYUAN)
        await login(client, "liyuan1")
        await file(client, table1(item1_clues="C-URBAN-1", item1_outcome="unresolved"))
        assert "协商中" in await (await client.get("/office/?state=in_consultation")).text()
        page = await (await client.get("/office/supervision/S-000001")).text()
        await client.post("/office/supervision/S-000001", data={"_csrf": csrf_of(page), "state": "done"})
        assert "已协商" in await (await client.get("/office/clues/C-URBAN-1")).text()
        assert "道路积水等问题" in await (await client.get("/office/?state=consulted")).text()
        assert "道路积水等问题" not in await (await client.get("/office/?state=forwarded")).text()

    run(gw, test)
