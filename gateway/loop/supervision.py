"""Supervision (督办): the items not resolved on site, their progress, and the reminders (催报 / 催办).

A supervision entry is opened by `table1.file_table1` for every item of a Table 1
that was not resolved on site. Here: reading and updating entries (the API, the
command line and the supervision sheet all call `update_supervision`), the sheet's
layout and state words (`SHEET_COLUMNS`, `STATE_WORDS`), and the daily reminders.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.consultations import SupervisionUpdate
from gateway.db.models import AuditEntry, Consultation, Supervision, utcnow
from gateway.delivery.mail_log import Mailer
from gateway.delivery.notices import queue_notice, send_due
from gateway.errors import NotFound, ValidationFailed
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.sheets import read_sheet, row_values
from gateway.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


def supervision_dict(s: Supervision) -> dict[str, Any]:
    return {
        "supervision_id": s.supervision_id, "item_seq": s.item_seq, "suggestion": s.suggestion, "outcome": s.outcome,
        "committee": s.committee_id, "assigned_unit": s.assigned_unit, "supervisor": s.supervisor, "progress": s.progress,
        "problems": s.problems, "way_forward": s.way_forward, "reporting_department": s.reporting_department,
        "reporting_date": s.reporting_date.isoformat() if s.reporting_date else None, "state": s.state, "due_on": s.due_on.isoformat(),
    }


def update_supervision(uow: UnitOfWork, supervision_id: str, update: SupervisionUpdate, *, workstation_of_client: str | None,
                       by: str | None = None, note: str = "") -> dict[str, Any]:
    """A supervision entry's progress, problems, way forward or state, in one unit of work; returns the entry as it now is.

    Every update is also a row of the audit log (`supervision_update`: who, the fields given, a note), in the same
    transaction, whichever way it came (the API, the filled sheet, the office's 督办 board): the entry's history.
    """
    with uow:
        result = _update_supervision(uow.session, supervision_id, update, workstation_of_client=workstation_of_client)
        uow.session.add(AuditEntry(at=utcnow(), username=(by or "")[:64] or None, action="supervision_update", target=supervision_id,
                                   detail={"changes": update.model_dump(exclude_unset=True, mode="json"), "note": note}))
        uow.commit()
        return result


def _update_supervision(session: Session, supervision_id: str, update: SupervisionUpdate, *, workstation_of_client: str | None) -> dict[str, Any]:
    s = session.scalar(select(Supervision).where(Supervision.supervision_id == supervision_id).with_for_update(key_share=True))
    owner = session.scalar(select(Consultation.workstation).where(Consultation.id == s.consultation_pk)) if s else None
    if s is None or (workstation_of_client is not None and owner != workstation_of_client):
        raise NotFound(f"no supervision entry {supervision_id!r} for this key")
    if s.state == "withdrawn":
        raise ValidationFailed(f"{supervision_id} was withdrawn: its item was resolved on site or removed in a later Table 1")
    for name, value in update.model_dump(exclude_unset=True).items():
        if name == "state":
            if value == "done" and s.state != "done":
                s.closed_at = utcnow()
            elif value == "open":
                s.closed_at = None
        setattr(s, name, value)
    session.flush()
    return supervision_dict(s)


# ---- reminders (催报 / 催办) ---------------------------------------------------------------------------


def _urge(mailer: Mailer, session: Session, chased: Consultation | Supervision, *, key: str, recipients: list[str], subject: str, text: str) -> bool:
    """One reminder email (made once per key), and the entry marked as chased, in one commit.

    A reminder that cannot be made (whatever a stored text holds) is logged and counted,
    and the sweep goes on with the others; it is tried again at the next sweep.
    """
    try:
        queue_notice(mailer, session, key=key, kind="urge", recipients=recipients, subject=subject, text=text)
        chased.chased_at = utcnow()
        session.commit()
        return True
    except Exception:
        session.rollback()
        log.exception("reminder %s could not be made; the other reminders go on", key)
        mailer.metrics.sweep_failures.labels("urge").inc()
        return False


def chase_consultations(mailer: Mailer, routing: RoutingConfig, *, today: date | None = None) -> tuple[list[str], list[str]]:
    """One reminder per announced activity whose Table 1 is missing past its due date, and per overdue supervision entry."""
    today = today or mailer.clock().astimezone(SHANGHAI).date()
    missing, overdue = [], []
    with mailer.sessions() as session:
        for c in session.scalars(select(Consultation).where(
            Consultation.planned.is_(True), Consultation.received_at.is_(None), Consultation.due_on < today, Consultation.chased_at.is_(None),
        ).order_by(Consultation.id)).all():
            committee = routing.committee(c.committee_id)
            text = (f"{committee.name}：\n\n{c.workstation}于{chinese_date(c.activity_date)}开展的协商议事活动（主题：{c.topic}），"
                    f"《协商议事活动开展情况表》（附表1）应于{chinese_date(c.due_on)}前报送，至今尚未收到。请督促及时填报。\n\n"
                    f"（活动编号：{c.consultation_id}）\n\n区政协办公室\n")
            if _urge(mailer, session, c, key=f"urge-table1:{c.consultation_id}", recipients=list(committee.emails), text=text,
                     subject=f"【催报】{c.workstation}协商议事活动开展情况表（应于{chinese_date(c.due_on)}前报送）"):
                missing.append(c.consultation_id)
        rows = session.execute(select(Supervision, Consultation).join(Consultation, Consultation.id == Supervision.consultation_pk).where(
            Supervision.state == "open", Supervision.due_on < today, Supervision.chased_at.is_(None),
        ).order_by(Supervision.id)).all()
        for s, c in rows:
            committee = routing.committee(s.committee_id)
            text = (f"{committee.name}：\n\n{c.workstation}{chinese_date(c.activity_date)}协商议事活动（主题：{c.topic}）中的事项"
                    f"“{s.suggestion}”，应于{chinese_date(s.due_on)}前落实，目前尚未办结。请督促承办单位"
                    f"{('（' + s.assigned_unit + '）') if s.assigned_unit else ''}抓紧办理，并报送进展情况。\n\n"
                    f"（督办编号：{s.supervision_id}）\n\n区政协办公室\n")
            if _urge(mailer, session, s, key=f"urge-supervision:{s.supervision_id}", recipients=list(committee.emails), text=text,
                     subject=f"【催办】{c.workstation}：{s.suggestion[:30]}"):
                overdue.append(s.supervision_id)
    for _ in missing:
        mailer.metrics.urges.labels("table1_missing").inc()
    for _ in overdue:
        mailer.metrics.urges.labels("supervision_overdue").inc()
    if missing or overdue:
        send_due(mailer)
    return missing, overdue


# ---- the supervision sheet (督办落实情况, seed 002's attachment) ----------------------------------------

SHEET_COLUMNS = [  # heading, width, the entry's field it is read back into (None: shown, not read back)
    ("督办编号", 12, "supervision_id"), ("协商日期", 12, None), ("协商主题", 24, None), ("协商建议", 36, None),
    ("交办单位", 18, "assigned_unit"), ("责任委室", 12, None), ("督办负责人", 12, "supervisor"), ("进展情况", 30, "progress"),
    ("存在问题", 24, "problems"), ("解决思路", 24, "way_forward"), ("报送部门", 16, "reporting_department"),
    ("报送日期", 12, "reporting_date"), ("办理状态", 10, "state"), ("应办结日期", 12, None),
]
STATE_WORDS = {"open": "未办结", "done": "已办结", "withdrawn": "已撤销"}
STATE_FROM_WORD = {"已办结": "done", "未办结": "open"}


@dataclass(frozen=True)
class SheetRow:
    """One entry as the sheet shows it, by heading (SHEET_COLUMNS)."""

    cells: dict[str, Any]

    def values(self) -> list[Any]:
        return [self.cells[name] for name, _, _ in SHEET_COLUMNS]


def sheet_rows(session: Session, routing: RoutingConfig, *, only_open: bool) -> list[SheetRow]:
    query = select(Supervision, Consultation).join(Consultation, Consultation.id == Supervision.consultation_pk).order_by(Supervision.id)
    if only_open:
        query = query.where(Supervision.state == "open")
    return [SheetRow({
        "督办编号": s.supervision_id, "协商日期": c.activity_date, "协商主题": c.topic, "协商建议": s.suggestion, "交办单位": s.assigned_unit,
        "责任委室": routing.committee(s.committee_id).short, "督办负责人": s.supervisor, "进展情况": s.progress, "存在问题": s.problems,
        "解决思路": s.way_forward, "报送部门": s.reporting_department, "报送日期": s.reporting_date,
        "办理状态": STATE_WORDS.get(s.state, s.state), "应办结日期": s.due_on,
    }) for s, c in session.execute(query).all()]


def supervision_sheet(rows: list[SheetRow]) -> bytes:
    """The sheet to fill in (.xlsx): one row per entry, headings bold, dates as dates."""
    wb = Workbook()
    ws = wb.active
    ws.title = "督办落实情况"
    ws.append([name for name, _, _ in SHEET_COLUMNS])
    for col, (_, width, _) in enumerate(SHEET_COLUMNS, start=1):
        ws.cell(row=1, column=col).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = width
    for row in rows:
        ws.append(row_values(row.values()))
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "B2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_supervision_sheet(content: bytes, filename: str) -> list[tuple[int, str, dict[str, Any]]]:
    """A filled sheet read back: (row number, supervision id, the fields to update) per row with an id."""
    rows = read_sheet(content, what=f"{filename} (督办落实情况)", max_cols=len(SHEET_COLUMNS) + 4)
    first = next(rows, None)
    header = [str(v or "").strip() for v in (first[1] if first and first[0] == 1 else [])]
    try:
        index = {field: header.index(name) for name, _, field in SHEET_COLUMNS if field}
    except ValueError:
        raise ValidationFailed(f"{filename}: the first row is not the 督办落实情况 header; export one with `gateway supervision export FILE`") from None
    out = []
    for r, row in rows:
        sid = str(row[index["supervision_id"]] or "").strip()
        if not sid:
            continue
        data: dict[str, Any] = {}
        for field, i in index.items():
            value = row[i] if i < len(row) else None
            if field == "supervision_id" or value in (None, ""):
                continue
            if field == "state":
                value = STATE_FROM_WORD.get(str(value).strip())
                if value is None:
                    continue
            elif field == "reporting_date":
                value = value.date() if hasattr(value, "date") else value
            else:
                value = str(value).strip()
            data[field] = value
        out.append((r, sid, data))
    return out


def import_supervision_sheet(uow: UnitOfWorkFactory, content: bytes, filename: str, *, by: str | None = None) -> tuple[int, list[str]]:
    """Every row of a filled sheet applied as an update (each in its own unit of work); returns how many, and the rows refused with why."""
    updated, problems = 0, []
    for r, sid, data in read_supervision_sheet(content, filename):
        try:
            update_supervision(uow(), sid, SupervisionUpdate.model_validate(data), workstation_of_client=None,
                               by=by or f"sheet:{filename}", note=f"督办落实情况表第{r}行")
            updated += 1
        except Exception as exc:  # name the row and go on with the others
            problems.append(f"第{r}行 {sid}: {getattr(exc, 'detail', exc)}")
    return updated, problems
