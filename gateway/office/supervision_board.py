"""督办 board: the items not resolved on site, their due dates in working days, overdue first, their history, and updates (docs/office.md).

The entries are those `gateway.loop.table1.file_table1` opens and `gateway
supervision export` writes out (`gateway.loop.supervision.sheet_rows`'s
columns); an update goes through `gateway.loop.supervision.update_supervision`,
as the API's PATCH and the filled sheet do, with its audit row in the same
transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.consultations import OUTCOME_NAMES, Outcome, SupervisionUpdate
from gateway.db.models import AuditEntry, Consultation, ConsultationRevision, Supervision
from gateway.errors import Forbidden, NotFound, ValidationFailed
from gateway.loop.supervision import STATE_WORDS, update_supervision
from gateway.office.accounts import Viewer
from gateway.office.inbox import NOTE_MAX, committee_short
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.uow import UnitOfWorkFactory
from gateway.workdays import WorkCalendar

TEXT_FIELDS = ("assigned_unit", "supervisor", "progress", "problems", "way_forward", "reporting_department")
FIELD_NAMES = {"assigned_unit": "交办单位", "supervisor": "督办负责人", "progress": "进展情况", "problems": "存在问题", "way_forward": "解决思路",
               "reporting_department": "报送部门", "reporting_date": "报送日期", "state": "办理状态"}
_SOURCES = {"api": "接口报送", "upload": "上传表格", "import": "命令行导入", "office": "网页填报"}


def working_days_between(calendar: WorkCalendar, after: date, until: date) -> int:
    """Working days after `after` up to and including `until` (0 when until is not later)."""
    n, day = 0, after
    while day < until:
        day = date.fromordinal(day.toordinal() + 1)
        n += calendar.is_workday(day)
    return n


def _timing(calendar: WorkCalendar, s: Supervision, today: date) -> tuple[bool, str]:
    """(overdue, in words) for an open entry; a closed one says when it was closed."""
    if s.state == "done":
        return False, f"{s.closed_at.astimezone(SHANGHAI).strftime('%Y-%m-%d') if s.closed_at else ''}办结"
    if s.state == "withdrawn":
        return False, "已撤销（事项已现场解决或在修订中删除）"
    if s.due_on < today:
        return True, f"逾期{working_days_between(calendar, s.due_on, today)}个工作日"
    left = working_days_between(calendar, today, s.due_on)
    return False, "今日到期" if left == 0 else f"剩余{left}个工作日"


def _scope(query: Any, viewer: Viewer) -> Any:
    if viewer.role == "committee":
        return query.where(Supervision.committee_id == viewer.committee_id)
    if viewer.role == "workstation":
        return query.where(Consultation.workstation == viewer.workstation)
    return query


@dataclass(frozen=True)
class BoardRow:
    supervision_id: str
    activity: str
    workstation: str
    topic: str
    suggestion: str
    outcome: str
    assigned_unit: str
    committee: str
    due: str
    timing: str
    overdue: bool
    state: str
    state_name: str
    progress: str


@dataclass(frozen=True)
class Board:
    rows: list[BoardRow]
    open: int
    overdue: int
    show: str


def board(session: Session, viewer: Viewer, routing: RoutingConfig, calendar: WorkCalendar, today: date, *, show: str = "open") -> Board:
    """The entries this user may see: open and overdue first (the most overdue at the top), then open by due date, then the closed."""
    query = _scope(select(Supervision, Consultation).join(Consultation, Consultation.id == Supervision.consultation_pk), viewer)
    if show != "all":
        query = query.where(Supervision.state == "open")
    rows = []
    for s, c in session.execute(query):
        overdue, timing = _timing(calendar, s, today)
        rows.append((0 if overdue else 1 if s.state == "open" else 2, s.due_on.toordinal(), s.id, BoardRow(
            s.supervision_id, chinese_date(c.activity_date), c.workstation, c.topic, mask_text(s.suggestion),
            OUTCOME_NAMES.get(Outcome(s.outcome), s.outcome) if s.outcome in Outcome._value2member_map_ else s.outcome,
            s.assigned_unit or "", committee_short(routing, s.committee_id), chinese_date(s.due_on), timing, overdue, s.state,
            STATE_WORDS.get(s.state, s.state), mask_text(s.progress or ""))))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    shown = [r[3] for r in rows]
    return Board(shown, sum(1 for r in shown if r.state == "open"), sum(1 for r in shown if r.overdue), show)


@dataclass(frozen=True)
class HistoryLine:
    at: str
    by: str
    what: str


@dataclass(frozen=True)
class EntryDetail:
    row: BoardRow
    consultation_id: str
    fields: dict[str, str]
    reporting_date: str
    history: list[HistoryLine]
    can_update: bool


def _entry(session: Session, viewer: Viewer, supervision_id: str) -> tuple[Supervision, Consultation]:
    found = session.execute(select(Supervision, Consultation).join(Consultation, Consultation.id == Supervision.consultation_pk)
                            .where(Supervision.supervision_id == supervision_id)).first()
    if found is None:
        raise NotFound("没有这项督办事项。")
    s, c = found
    if not session.execute(_scope(select(Supervision.id).join(Consultation, Consultation.id == Supervision.consultation_pk)
                                  .where(Supervision.id == s.id), viewer)).first():
        raise Forbidden("这项督办事项不属于本单位，无权查看。")
    return s, c


def _who(username: str | None) -> str:
    """Who made an update, as the history says it: a user of the pages, an API key, the sheet, the command line."""
    name = username or ""
    for prefix, word in (("api:", "接口"), ("sheet:", "督办落实情况表"), ("cli:", "命令行")):
        if name.startswith(prefix):
            return f"{word}（{name.removeprefix(prefix)}）"
    return name


def entry_detail(session: Session, viewer: Viewer, routing: RoutingConfig, calendar: WorkCalendar, today: date, supervision_id: str) -> EntryDetail:
    s, c = _entry(session, viewer, supervision_id)
    overdue, timing = _timing(calendar, s, today)
    row = BoardRow(s.supervision_id, chinese_date(c.activity_date), c.workstation, c.topic, mask_text(s.suggestion),
                   OUTCOME_NAMES[Outcome(s.outcome)] if s.outcome in Outcome._value2member_map_ else s.outcome, s.assigned_unit or "",
                   committee_short(routing, s.committee_id), chinese_date(s.due_on), timing, overdue, s.state,
                   STATE_WORDS.get(s.state, s.state), mask_text(s.progress or ""))
    events: list[tuple[Any, HistoryLine]] = []
    for r in session.scalars(select(ConsultationRevision).where(ConsultationRevision.consultation_pk == c.id).order_by(ConsultationRevision.revision)):
        what = (f"附表1第{r.revision}版报送（{_SOURCES.get(r.source, r.source)}）" + ("，开始督办" if r.received_at <= s.created_at else "")
                if r.revision == 1 else f"附表1修订为第{r.revision}版（{_SOURCES.get(r.source, r.source)}）")
        events.append((r.received_at, HistoryLine(r.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), r.client_id.removeprefix("office:"), what)))
    for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "supervision_update", AuditEntry.target == s.supervision_id)
                             .order_by(AuditEntry.id)):
        changes = e.detail.get("changes") or {}
        parts = [f"{FIELD_NAMES.get(k, k)}：{STATE_WORDS.get(v, v) if k == 'state' else (v or '（清空）')}" for k, v in changes.items()]
        if e.detail.get("note"):
            parts.append(f"备注：{e.detail['note']}")
        events.append((e.at, HistoryLine(e.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), _who(e.username), "；".join(parts) or "保存（无改动）")))
    if s.closed_at is not None and s.state == "withdrawn":
        events.append((s.closed_at, HistoryLine(s.closed_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), "", "撤销督办（事项已现场解决或删除）")))
    events.sort(key=lambda pair: pair[0])
    fields = {name: mask_text(getattr(s, name) or "") for name in TEXT_FIELDS}
    return EntryDetail(row, c.consultation_id, fields, s.reporting_date.isoformat() if s.reporting_date else "", [h for _, h in events],
                       can_update=s.state != "withdrawn")


def update_entry(uow: UnitOfWorkFactory, session: Session, viewer: Viewer, supervision_id: str, form: Any) -> dict[str, Any]:
    """The board's form as a `SupervisionUpdate` of what changed, applied by `update_supervision` (which writes the audit row, with the note). Commits.

    `session` is a read session to see the entry as it is (scope, what changed).
    """
    s, c = _entry(session, viewer, supervision_id)
    if s.state == "withdrawn":
        raise ValidationFailed("该事项已撤销（已现场解决或在修订后的附表1中删除），不再督办。")

    def text(name: str) -> str:
        value = form.get(name, "")
        return mask_text(value.strip()) if isinstance(value, str) else ""

    changes: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = text(name)
        if value != mask_text(getattr(s, name) or ""):
            changes[name] = value or None
    reporting = text("reporting_date")
    if reporting != (s.reporting_date.isoformat() if s.reporting_date else ""):
        changes["reporting_date"] = reporting or None
    state = text("state")
    if state in ("open", "done") and state != s.state:
        changes["state"] = state
    note = text("note")
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"备注不能超过{NOTE_MAX}字。")
    try:
        update = SupervisionUpdate.model_validate(changes)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            label = FIELD_NAMES.get(name, name)
            problems.append(f"{label}：请按“2026-11-20”的格式填写日期" if name == "reporting_date" else
                            f"{label}：内容过长" if "too_long" in e["type"] else f"{label}：请写在一行内" if "one line" in str(e.get("msg")) else f"{label}：填写有误")
        raise ValidationFailed("；".join(problems)) from exc
    if not changes and not note:
        raise ValidationFailed("没有修改任何内容，也没有填写备注。")
    return update_supervision(uow(), s.supervision_id, update, workstation_of_client=viewer.workstation if viewer.role == "workstation" else None,
                              by=viewer.username, note=note)

