"""Table 1 (附表1), exactly: what the contract refuses, who may file it, what it may link to, and what filing, re-filing
and revising store (mutmut's survivors of contracts/consultations.py and of _committee, _check_links, file_table1, _file_table1).

Dates are counted by hand on the 2026 calendar: 2026-11-17 is a Tuesday, so its 3 working days end on Friday
2026-11-20; 60 days after it is 2027-01-16, 90 days 2027-02-15.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from contracts.consultations import Consultation as Table1
from contracts.consultations import ConsultationReceipt, Outcome
from gateway.uow import UnitOfWork
from gateway.loop.table1 import FileTable1, file_table1
from gateway.db.engine import make_engine
from gateway.db.models import Base, Clue, Consultation, ConsultationItem, ConsultationRevision, Report, Supervision, WorkOrder
from gateway.errors import Forbidden, ValidationFailed
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.workdays import WorkCalendar

LIYUAN = "梨园镇委员工作站"
ROUTING = RoutingConfig.model_validate({
    "committees": [
        {"id": "office", "name": "区政协办公室", "short": "办公室", "emails": ["office@zx.example"]},
        {"id": "urban", "name": "城建环保委员会", "short": "城建", "emails": ["urban@zx.example"],
         "workstations": [{"name": LIYUAN, "streets": ["梨园镇"]}, "永顺镇委员工作站"]},
        {"id": "society", "name": "社会和法制委员会", "short": "社会", "emails": ["society@zx.example"]},
    ],
    "triage": "office",
})
CALENDAR = WorkCalendar()
NOW = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)  # 10:00 on the 19th in Beijing
ITEMS = [
    {"text": "协调一号楼加装电梯意见", "outcome": "on_site", "ticket_nos": ["T1"]},
    {"text": "申请加装电梯补贴", "outcome": "short_term", "clue_ids": ["C000001-001"], "ticket_nos": ["T3", "T4"], "assigned_unit": "区住建委"},
    {"text": "老旧小区改造资金", "outcome": "unresolved"},
]


def _doc(**changes: Any) -> Table1:
    data: dict[str, Any] = {"activity_id": "A-1", "workstation": LIYUAN, "period": {"start": "2026-11-16", "end": "2026-11-22"},
                            "activity_date": "2026-11-17", "topic": "加装电梯", "members": ["张委员"], "items": ITEMS}
    data.update(changes)
    return Table1.model_validate({k: v for k, v in data.items() if v is not None})


@pytest.fixture
def session() -> Iterator[Session]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        report = Report(client_id="cc", report_id="W47", receipt_id="R-1", kind="weekly", body_sha256="0" * 64, record_count=4)
        s.add(report)
        s.flush()
        s.add_all([WorkOrder(ticket_no=t, received_at=NOW, content_masked="路灯不亮") for t in ("T1", "T2", "T3", "T4")])
        s.add(Clue(clue_id="C000001-001", report_pk=report.id, committee_id="urban", clue_type="proposal", title="加装电梯", category=["城乡建设"],
                   work_order_count=2, citizen_count=2, places=[], period_label="第47周", trend="新出现", samples=[], ticket_nos=["T2", "T3"]))
        s.commit()
        yield s
    engine.dispose()


def _file(session: Session, doc: Table1, *, now: datetime | None = NOW, client: str = "liyuan", source: str = "api",
          own: str | None = None, **kwargs: Any) -> tuple[ConsultationReceipt, bool]:
    # The unit of work over the test's own session: what it commits, the test reads back in the same session.
    return file_table1(UnitOfWork(lambda: session), FileTable1(client, doc, source, own), routing=ROUTING, calendar=CALENDAR, now=now, **kwargs)


def _supervision(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(select(
        Supervision.supervision_id, Supervision.item_seq, Supervision.suggestion, Supervision.outcome, Supervision.committee_id,
        Supervision.assigned_unit, Supervision.state, Supervision.due_on, Supervision.closed_at).order_by(Supervision.id))]


def _items(session: Session) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in session.execute(select(
        ConsultationItem.consultation_pk, ConsultationItem.seq, ConsultationItem.text, ConsultationItem.outcome, ConsultationItem.clue_ids,
        ConsultationItem.ticket_nos).order_by(ConsultationItem.consultation_pk, ConsultationItem.seq))]


# ---- the contract ---------------------------------------------------------------------------------


def _refusal(**changes: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        _doc(**changes)
    return [e["msg"] for e in caught.value.errors()]


def test_a_table1_without_items_is_refused_unless_it_announces_an_activity() -> None:
    assert _refusal(items=[]) == [
        "Value error, a Table 1 lists at least one item (协商议事具体事项); to announce an activity without items, set planned: true"]
    assert _doc(items=[], planned=True).planned is True


def test_an_announced_activity_may_not_have_items_yet() -> None:
    assert _refusal(planned=True) == ["Value error, an announced activity (planned: true) has no items yet; file its Table 1 without planned"]


def test_the_activity_date_must_lie_within_the_period_ends_included() -> None:
    assert _doc(activity_date="2026-11-16").day == date(2026, 11, 16)
    assert _doc(activity_date="2026-11-22").day == date(2026, 11, 22)
    assert _refusal(activity_date="2026-11-15") == ["Value error, activity_date 2026-11-15 is outside the period 2026-11-16 – 2026-11-22"]
    assert _refusal(activity_date="2026-11-23") == ["Value error, activity_date 2026-11-23 is outside the period 2026-11-16 – 2026-11-22"]


def test_the_day_of_the_activity_is_its_date_or_else_the_end_of_the_period() -> None:
    assert _doc().day == date(2026, 11, 17)
    assert _doc(activity_date=None).day == date(2026, 11, 22)


@pytest.mark.parametrize("workstation", ["梨园镇\n委员工作站", "梨园镇\t委员工作站", "梨园镇\u2028委员工作站", "梨园镇\x7f委员工作站"])
def test_a_name_with_a_line_break_tab_or_control_character_is_refused_saying_why(workstation: str) -> None:
    assert _refusal(workstation=workstation) == [
        "Value error, must be one line: no line breaks, tabs or control characters (it is used in email subjects and file names)"]


# ---- who files, for which committee, linking what -------------------------------------------------


def test_a_workstation_key_files_for_its_own_workstation_only(session: Session) -> None:
    with pytest.raises(Forbidden) as caught:
        _file(session, _doc(), own="永顺镇委员工作站")
    assert caught.value.detail == "this key files Table 1s for '永顺镇委员工作站' only, not for '梨园镇委员工作站'"
    assert session.scalar(select(Consultation.id)) is None
    assert _file(session, _doc(), own=LIYUAN)[1] is True


def test_an_unknown_committee_is_refused_with_the_known_ones(session: Session) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _file(session, _doc(committee="culture"))
    assert caught.value.detail == "committee 'culture' is not in the routing configuration (known: office, urban, society)"
    assert caught.value.errors == [{"loc": ["committee"], "msg": "unknown committee"}]


def test_the_committee_is_the_one_named_else_the_workstations_else_triage(session: Session) -> None:
    assert _file(session, _doc(committee="society"))[0].committee == "society"
    assert _file(session, _doc(activity_id="A-2"))[0].committee == "urban"
    assert _file(session, _doc(activity_id="A-3", workstation="宋庄镇委员工作站"))[0].committee == "office"
    assert session.scalars(select(Consultation.committee_id).order_by(Consultation.id)).all() == ["society", "urban", "office"]


def test_unknown_clue_ids_and_ticket_numbers_are_refused_item_by_item(session: Session) -> None:
    items = [{"text": "甲", "outcome": "on_site", "clue_ids": ["C000001-001", "C9"], "ticket_nos": ["T1"]},
             {"text": "乙", "outcome": "on_site", "ticket_nos": ["T9", "T2"]}]
    with pytest.raises(ValidationFailed) as caught:
        _file(session, _doc(items=items))
    assert caught.value.detail == ("some items name clues or work orders the gateway does not know: item 1: unknown clue id 'C9'; "
                                   "item 2: unknown ticket number 'T9' — check the numbers against the clue packet")
    assert caught.value.errors == [{"loc": ["items", 0, "clue_ids"], "msg": "unknown clue id 'C9'"},
                                   {"loc": ["items", 1, "ticket_nos"], "msg": "unknown ticket number 'T9'"}]
    assert session.scalar(select(Consultation.id)) is None


def test_only_the_first_ten_problems_are_spelled_out_but_all_are_listed(session: Session) -> None:
    items = [{"text": f"第{i}项", "outcome": "on_site", "ticket_nos": [f"X{i}"]} for i in range(12)]
    with pytest.raises(ValidationFailed) as caught:
        _file(session, _doc(items=items))
    assert caught.value.detail == ("some items name clues or work orders the gateway does not know: "
                                   + "; ".join(f"item {i + 1}: unknown ticket number 'X{i}'" for i in range(10))
                                   + " — check the numbers against the clue packet")
    assert len(caught.value.errors or []) == 12


def test_a_table1_without_links_looks_up_no_clue_and_no_work_order(session: Session) -> None:
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", record)
    try:
        receipt, _ = _file(session, _doc(items=[{"text": "甲", "outcome": "on_site"}]))
        _file(session, _doc(activity_id="A-2", items=[{"text": "乙", "outcome": "on_site", "ticket_nos": ["T1"]}]))
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", record)
    assert receipt.items == 1
    assert _items(session) == [(1, 1, "甲", "on_site", [], []), (2, 1, "乙", "on_site", [], ["T1"])]
    assert [s for s in statements if "FROM clues" in s] == []
    assert len([s for s in statements if "FROM work_orders" in s]) == 1  # the second Table 1 names a ticket


# ---- filing ----------------------------------------------------------------------------------------


def test_the_first_table1_is_stored_with_its_deadline_items_and_supervision(session: Session) -> None:
    doc = _doc()
    receipt, changed = _file(session, doc)
    assert changed is True
    assert receipt == ConsultationReceipt(
        consultation_id="T1-000001", revision=1, workstation=LIYUAN, committee="urban", activity_date=date(2026, 11, 17),
        due_on=date(2026, 11, 20), received_on=date(2026, 11, 19), late=False, planned=False, items=3,
        supervision_ids=["S-000001", "S-000002"], first_filing=True, calendar_official=True)
    row = session.scalars(select(Consultation)).one()
    assert (row.consultation_id, row.workstation, row.activity_key, row.client_id, row.committee_id, row.period_start, row.period_end,
            row.activity_date, row.topic, row.planned, row.revision, row.due_on, row.calendar_official, row.received_at, row.late,
            row.source, row.document) == (
        "T1-000001", LIYUAN, "A-1", "liyuan", "urban", date(2026, 11, 16), date(2026, 11, 22), date(2026, 11, 17), "加装电梯", False, 1,
        date(2026, 11, 20), True, NOW, False, "api", doc.model_dump(mode="json"))
    assert [tuple(r) for r in session.execute(select(
        ConsultationRevision.consultation_pk, ConsultationRevision.revision, ConsultationRevision.document, ConsultationRevision.source,
        ConsultationRevision.client_id, ConsultationRevision.received_at))] == [(1, 1, doc.model_dump(mode="json"), "api", "liyuan", NOW)]
    # the tickets of an item: the ones it names, then the ones behind its clues, each once
    assert _items(session) == [(1, 1, "协调一号楼加装电梯意见", "on_site", [], ["T1"]),
                               (1, 2, "申请加装电梯补贴", "short_term", ["C000001-001"], ["T3", "T4", "T2"]),
                               (1, 3, "老旧小区改造资金", "unresolved", [], [])]
    assert _supervision(session) == [
        ("S-000001", 2, "申请加装电梯补贴", "short_term", "urban", "区住建委", "open", date(2027, 1, 16), None),
        ("S-000002", 3, "老旧小区改造资金", "unresolved", "urban", None, "open", date(2027, 2, 15), None)]


def test_filing_the_same_table1_again_changes_nothing(session: Session) -> None:
    first, _ = _file(session, _doc())
    again, changed = _file(session, _doc(), now=NOW + timedelta(days=3), source="upload")
    assert changed is False
    assert again == first.model_copy(update={"first_filing": False})
    assert session.scalars(select(ConsultationRevision.revision)).all() == [1]
    assert session.scalars(select(Consultation.source)).all() == ["api"]


def test_the_same_announcement_again_has_no_items(session: Session) -> None:
    _file(session, _doc(items=[], planned=True))
    again, changed = _file(session, _doc(items=[], planned=True))
    assert (changed, again.items, again.supervision_ids, again.planned) == (False, 0, [], True)


def test_the_same_table1_again_lists_its_own_supervision_in_item_order(session: Session) -> None:
    _file(session, _doc(activity_id="OTHER", items=[{"text": "别处", "outcome": "unresolved"}]))  # S-000001, another activity
    _file(session, _doc(items=[{"text": "甲", "outcome": "on_site"}, {"text": "乙", "outcome": "short_term"}]))  # S-000002 for item 2
    revised = _doc(items=[{"text": "甲", "outcome": "short_term"}, {"text": "乙", "outcome": "short_term"}])  # S-000003 for item 1
    first, _ = _file(session, revised)
    again, changed = _file(session, revised)
    assert changed is False
    assert first.supervision_ids == again.supervision_ids == ["S-000003", "S-000002"]


def test_the_same_table1_again_does_not_count_withdrawn_supervision(session: Session) -> None:
    _file(session, _doc(items=[{"text": "甲", "outcome": "short_term"}, {"text": "乙", "outcome": "unresolved"}]))
    revised = _doc(items=[{"text": "甲", "outcome": "on_site"}, {"text": "乙", "outcome": "unresolved"}])
    _file(session, revised)
    again, changed = _file(session, revised)
    assert changed is False
    assert (again.revision, again.items, again.supervision_ids) == (2, 2, ["S-000002"])


def test_a_revision_replaces_items_and_withdraws_or_reopens_their_supervision(session: Session) -> None:
    first = [{"text": "甲", "outcome": "short_term", "assigned_unit": "区住建委"}, {"text": "乙", "outcome": "unresolved"},
             {"text": "丙", "outcome": "short_term"}]
    _file(session, _doc(items=first))
    later = NOW + timedelta(days=2)
    receipt, changed = _file(session, _doc(items=[{"text": "甲", "outcome": "on_site"}, {"text": "乙二", "outcome": "unresolved"}],
                                           topic="加装电梯（修订）", committee="society", period={"start": "2026-11-17", "end": "2026-11-23"}),
                             now=later, source="upload", client="office")
    assert changed is True
    assert (receipt.consultation_id, receipt.revision, receipt.committee, receipt.items, receipt.supervision_ids, receipt.first_filing,
            receipt.received_on) == ("T1-000001", 2, "society", 2, ["S-000002"], False, date(2026, 11, 19))
    row = session.scalars(select(Consultation)).one()
    assert (row.revision, row.committee_id, row.period_start, row.period_end, row.topic, row.source, row.received_at, row.client_id) == (
        2, "society", date(2026, 11, 17), date(2026, 11, 23), "加装电梯（修订）", "upload", NOW, "liyuan")
    assert session.scalars(select(ConsultationRevision.source).order_by(ConsultationRevision.revision)).all() == ["api", "upload"]
    assert session.scalars(select(ConsultationRevision.client_id).order_by(ConsultationRevision.revision)).all() == ["liyuan", "office"]
    assert _items(session) == [(1, 1, "甲", "on_site", [], []), (1, 2, "乙二", "unresolved", [], [])]
    assert _supervision(session) == [
        ("S-000001", 1, "甲", "short_term", "urban", "区住建委", "withdrawn", date(2027, 1, 16), later),
        ("S-000002", 2, "乙二", "unresolved", "society", None, "open", date(2027, 2, 15), None),
        ("S-000003", 3, "丙", "short_term", "urban", None, "withdrawn", date(2027, 1, 16), later)]
    # back as they were: the same entries open again, the unit handed to kept when the item no longer names it
    again = [{"text": "甲", "outcome": "unresolved"}, {"text": "乙二", "outcome": "unresolved"}, {"text": "丙", "outcome": "short_term"}]
    receipt, _ = _file(session, _doc(items=again, activity_date="2026-11-18"), now=later + timedelta(days=1))
    assert receipt.supervision_ids == ["S-000001", "S-000002", "S-000003"]
    assert _supervision(session) == [
        ("S-000001", 1, "甲", "unresolved", "urban", "区住建委", "open", date(2027, 2, 16), None),
        ("S-000002", 2, "乙二", "unresolved", "urban", None, "open", date(2027, 2, 16), None),
        ("S-000003", 3, "丙", "short_term", "urban", None, "open", date(2027, 1, 17), None)]


def test_supervision_that_is_done_stays_done_whatever_a_revision_says(session: Session) -> None:
    _file(session, _doc(items=[{"text": "甲", "outcome": "short_term"}, {"text": "乙", "outcome": "short_term"}, {"text": "丙", "outcome": "unresolved"}]))
    session.execute(update(Supervision).values(state="done"))
    session.commit()
    receipt, _ = _file(session, _doc(items=[{"text": "甲", "outcome": "on_site"}, {"text": "乙", "outcome": "unresolved"}]), now=NOW + timedelta(days=1))
    assert receipt.supervision_ids == ["S-000002"]
    assert [(s[0], s[6], s[8]) for s in _supervision(session)] == [("S-000001", "done", None), ("S-000002", "done", None), ("S-000003", "done", None)]


def test_an_announced_activity_is_not_received_until_its_table1_with_items(session: Session) -> None:
    receipt, _ = _file(session, _doc(items=[], planned=True))
    assert (receipt.planned, receipt.received_on, receipt.late, receipt.first_filing, receipt.items, receipt.supervision_ids) == (
        True, None, False, False, 0, [])
    assert session.scalar(select(Consultation.received_at)) is None
    late = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    receipt, _ = _file(session, _doc(), now=late)
    assert (receipt.revision, receipt.planned, receipt.received_on, receipt.late, receipt.first_filing) == (2, False, date(2026, 11, 23), True, True)
    # a correction does not move the filing date nor decide lateness again
    receipt, _ = _file(session, _doc(topic="加装电梯（更正）"), now=late + timedelta(days=10))
    assert (receipt.received_on, receipt.late, receipt.first_filing) == (date(2026, 11, 23), True, False)


def test_late_is_decided_on_the_beijing_date_of_the_first_filing(session: Session) -> None:
    on_time, _ = _file(session, _doc(activity_id="A-1"), now=datetime(2026, 11, 20, 15, 59, tzinfo=UTC))  # 23:59 on the 20th
    late, _ = _file(session, _doc(activity_id="A-2"), now=datetime(2026, 11, 20, 16, 1, tzinfo=UTC))  # 00:01 on the 21st
    assert (on_time.due_on, on_time.late, on_time.received_on) == (date(2026, 11, 20), False, date(2026, 11, 20))
    assert (late.due_on, late.late, late.received_on) == (date(2026, 11, 20), True, date(2026, 11, 21))
    assert session.scalars(select(Consultation.late).order_by(Consultation.id)).all() == [False, True]


def test_without_an_activity_id_the_date_and_topic_name_the_activity(session: Session) -> None:
    first, _ = _file(session, _doc(activity_id=None))
    same, _ = _file(session, _doc(activity_id=None, members=["张委员", "李委员"]))
    other, _ = _file(session, _doc(activity_id=None, topic="停车难"))
    elsewhere, _ = _file(session, _doc(activity_id=None, workstation="永顺镇委员工作站"))
    assert [(r.consultation_id, r.revision) for r in (first, same, other, elsewhere)] == [
        ("T1-000001", 1), ("T1-000001", 2), ("T1-000002", 1), ("T1-000003", 1)]
    assert session.scalars(select(Consultation.activity_key).order_by(Consultation.id)).all() == [
        "2026-11-17|加装电梯", "2026-11-17|停车难", "2026-11-17|加装电梯"]


def test_a_due_date_in_a_year_without_official_calendar_says_so(session: Session) -> None:
    doc = _doc(period={"start": "2026-12-28", "end": "2026-12-31"}, activity_date="2026-12-30")
    receipt, _ = _file(session, doc, now=datetime(2027, 1, 4, 1, 0, tzinfo=UTC))
    assert (receipt.due_on, receipt.calendar_official, receipt.late) == (date(2027, 1, 4), False, False)
    assert session.scalar(select(Consultation.calendar_official)) is False


def test_the_supervision_periods_can_be_configured(session: Session) -> None:
    _file(session, _doc(), supervision_days={Outcome.short_term: 7, Outcome.unresolved: 14})
    assert [s[7] for s in _supervision(session)] == [date(2026, 11, 24), date(2026, 12, 1)]


def test_without_now_the_filing_is_received_at_the_current_time(session: Session) -> None:
    before = datetime.now(UTC)
    receipt, _ = _file(session, _doc(), now=None)
    after = datetime.now(UTC)
    received = session.scalar(select(Consultation.received_at))
    assert received is not None and before - timedelta(seconds=1) <= received <= after + timedelta(seconds=1)
    assert receipt.late is True  # filed today, after the due date of 2026-11-20
