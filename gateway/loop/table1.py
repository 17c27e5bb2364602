"""Table 1 (附表1): the consultation results filed by the workstations, their revisions and deadlines.

One function files a Table 1, whatever it came as (JSON, the filled .xlsx form,
the command line): it checks who may file it and what it links to, keeps every
revision, counts the deadline on the official calendar, and opens a
supervision entry for every item not resolved on site.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contracts.consultations import Consultation as Table1
from contracts.consultations import ConsultationReceipt, Outcome
from gateway.db.models import Clue, Consultation, ConsultationItem, ConsultationRevision, Supervision, WorkOrder, utcnow
from gateway.errors import Forbidden, NotFound, ValidationFailed
from gateway.loop.supervision import supervision_dict
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.uow import UnitOfWork
from gateway.workdays import WorkCalendar


# How long a supervised item may take before it is overdue: 短期内可协调解决 says 1 to 2 months.
SUPERVISION_DAYS = {Outcome.short_term: 60, Outcome.unresolved: 90}


@dataclass(frozen=True)
class FileTable1:
    client_id: str
    document: Table1
    source: str  # api, upload, import
    workstation_of_client: str | None = None  # a workstation's key files for that workstation only


def _committee(routing: RoutingConfig, doc: Table1) -> str:
    if doc.committee is not None:
        try:
            routing.committee(doc.committee)
        except KeyError:
            known = ", ".join(c.id for c in routing.committees)
            raise ValidationFailed(f"committee {doc.committee!r} is not in the routing configuration (known: {known})",
                                   errors=[{"loc": ["committee"], "msg": "unknown committee"}]) from None
        return doc.committee
    return routing.committee_of_workstation(doc.workstation) or routing.triage


def _check_links(session: Session, doc: Table1) -> dict[int, tuple[list[str], list[str]]]:
    """Per item: its clue ids and ticket numbers (named ones plus those behind the named clues); unknown ones are refused."""
    clue_ids = {c for item in doc.items for c in item.clue_ids}
    tickets = {t for item in doc.items for t in item.ticket_nos}
    clues = {cid: list(nos) for cid, nos in session.execute(select(Clue.clue_id, Clue.ticket_nos).where(Clue.clue_id.in_(clue_ids)))} if clue_ids else {}
    known_tickets = set(session.scalars(select(WorkOrder.ticket_no).where(WorkOrder.ticket_no.in_(tickets)))) if tickets else set()
    errors = []
    for i, item in enumerate(doc.items):
        for c in item.clue_ids:
            if c not in clues:
                errors.append({"loc": ["items", i, "clue_ids"], "msg": f"unknown clue id {c!r}"})
        for t in item.ticket_nos:
            if t not in known_tickets:
                errors.append({"loc": ["items", i, "ticket_nos"], "msg": f"unknown ticket number {t!r}"})
    if errors:
        raise ValidationFailed("some items name clues or work orders the gateway does not know: " + "; ".join(
            f"item {e['loc'][1] + 1}: {e['msg']}" for e in errors[:10]) + " — check the numbers against the clue packet", errors=errors)
    linked = {}
    for i, item in enumerate(doc.items):
        behind = [t for c in item.clue_ids for t in clues[c]]
        linked[i] = (list(item.clue_ids), list(dict.fromkeys([*item.ticket_nos, *behind])))
    return linked


def _receipt(c: Consultation, items: int, supervision_ids: list[str], *, first_filing: bool = False) -> ConsultationReceipt:
    return ConsultationReceipt(
        consultation_id=c.consultation_id, revision=c.revision, workstation=c.workstation, committee=c.committee_id, first_filing=first_filing,
        activity_date=c.activity_date, due_on=c.due_on,
        received_on=c.received_at.astimezone(SHANGHAI).date() if c.received_at else None,
        late=c.late, planned=c.planned, items=items, supervision_ids=supervision_ids, calendar_official=c.calendar_official,
    )


def file_table1(uow: UnitOfWork, cmd: FileTable1, *, routing: RoutingConfig, calendar: WorkCalendar,
                now: datetime | None = None, supervision_days: dict[Outcome, int] = SUPERVISION_DAYS) -> tuple[ConsultationReceipt, bool]:
    """Store a Table 1 (or a revision of one) in one unit of work. Returns the receipt and whether anything changed."""
    with uow:
        result = _file_table1(uow.session, cmd, routing=routing, calendar=calendar, now=now, supervision_days=supervision_days)
        if result[1]:
            uow.commit()
        return result


def _file_table1(session: Session, cmd: FileTable1, *, routing: RoutingConfig, calendar: WorkCalendar,
                 now: datetime | None, supervision_days: dict[Outcome, int]) -> tuple[ConsultationReceipt, bool]:
    doc = cmd.document
    if cmd.workstation_of_client is not None and doc.workstation != cmd.workstation_of_client:
        raise Forbidden(f"this key files Table 1s for {cmd.workstation_of_client!r} only, not for {doc.workstation!r}")
    committee = _committee(routing, doc)
    links = _check_links(session, doc)
    now = now or utcnow()
    day = doc.day
    key = doc.activity_id or f"{day.isoformat()}|{doc.topic}"
    document = doc.model_dump(mode="json")

    c = session.scalar(select(Consultation).where(Consultation.workstation == doc.workstation, Consultation.activity_key == key).with_for_update(key_share=True))
    if c is not None and c.document == document:
        items = session.scalar(select(func.count()).select_from(ConsultationItem).where(ConsultationItem.consultation_pk == c.id)) or 0
        ids = list(session.scalars(select(Supervision.supervision_id).where(Supervision.consultation_pk == c.id, Supervision.state != "withdrawn").order_by(Supervision.item_seq)))
        return _receipt(c, items, ids), False
    due_on = calendar.due_date(day)
    official = calendar.official(day.year) and calendar.official(due_on.year)
    if c is None:
        c = Consultation(consultation_id=f"tmp-{uuid.uuid4().hex[:12]}", workstation=doc.workstation, activity_key=key, client_id=cmd.client_id,
                         committee_id=committee, period_start=doc.period.start, period_end=doc.period.end, activity_date=day, topic=doc.topic,
                         planned=doc.planned, revision=1, due_on=due_on, calendar_official=official, source=cmd.source, document=document)
        session.add(c)
        session.flush()
        c.consultation_id = f"T1-{c.id:06d}"
    else:
        c.revision += 1
        c.committee_id, c.period_start, c.period_end, c.activity_date, c.topic = committee, doc.period.start, doc.period.end, day, doc.topic
        c.planned, c.due_on, c.calendar_official, c.source, c.document = doc.planned, due_on, official, cmd.source, document
    first_filing = not doc.planned and c.received_at is None
    if first_filing:
        # The first Table 1 with items decides on-time or late (a correction later does not make it late).
        c.received_at = now
        c.late = now.astimezone(SHANGHAI).date() > due_on
    session.add(ConsultationRevision(consultation_pk=c.id, revision=c.revision, document=document, source=cmd.source, client_id=cmd.client_id, received_at=now))

    session.execute(delete(ConsultationItem).where(ConsultationItem.consultation_pk == c.id))
    for i, item in enumerate(doc.items):
        clue_ids, tickets = links[i]
        session.add(ConsultationItem(consultation_pk=c.id, seq=i + 1, text=item.text, outcome=item.outcome.value, clue_ids=clue_ids, ticket_nos=tickets))

    existing = {s.item_seq: s for s in session.scalars(select(Supervision).where(Supervision.consultation_pk == c.id))}
    supervision_ids = []
    for i, item in enumerate(doc.items, start=1):
        entry = existing.pop(i, None)
        if item.outcome == Outcome.on_site:
            if entry is not None and entry.state == "open":
                entry.state, entry.closed_at = "withdrawn", now
            continue
        if entry is None:
            entry = Supervision(supervision_id=f"tmp-{uuid.uuid4().hex[:12]}", consultation_pk=c.id, item_seq=i, state="open")
            session.add(entry)
        entry.suggestion, entry.outcome, entry.committee_id = item.text, item.outcome.value, committee
        entry.assigned_unit = item.assigned_unit or entry.assigned_unit
        entry.due_on = day + timedelta(days=supervision_days[item.outcome])
        if entry.state == "withdrawn":
            entry.state, entry.closed_at = "open", None
        session.flush()
        if entry.supervision_id.startswith("tmp-"):
            entry.supervision_id = f"S-{entry.id:06d}"
        supervision_ids.append(entry.supervision_id)
    for entry in existing.values():  # items removed in this revision
        if entry.state == "open":
            entry.state, entry.closed_at = "withdrawn", now
    return _receipt(c, len(doc.items), supervision_ids, first_filing=first_filing), True


def consultation_view(session: Session, consultation_id: str, *, workstation_of_client: str | None) -> dict[str, Any]:
    c = session.scalar(select(Consultation).where(Consultation.consultation_id == consultation_id))
    if c is None or (workstation_of_client is not None and c.workstation != workstation_of_client):
        # Another workstation's Table 1 is as good as absent for this key.
        raise NotFound(f"no Table 1 {consultation_id!r} for this key")
    items = session.scalars(select(ConsultationItem).where(ConsultationItem.consultation_pk == c.id).order_by(ConsultationItem.seq)).all()
    supervision = session.scalars(select(Supervision).where(Supervision.consultation_pk == c.id).order_by(Supervision.item_seq)).all()
    revisions = session.scalars(select(ConsultationRevision.revision).where(ConsultationRevision.consultation_pk == c.id).order_by(ConsultationRevision.revision)).all()
    return {
        "consultation_id": c.consultation_id, "revision": c.revision, "revisions": list(revisions), "workstation": c.workstation,
        "committee": c.committee_id, "topic": c.topic, "activity_date": c.activity_date.isoformat(), "due_on": c.due_on.isoformat(),
        "received_at": c.received_at.isoformat() if c.received_at else None, "late": c.late, "planned": c.planned,
        "items": [{"seq": i.seq, "text": i.text, "outcome": i.outcome, "clue_ids": i.clue_ids, "ticket_nos": i.ticket_nos} for i in items],
        "supervision": [supervision_dict(s) for s in supervision],
        "document": c.document,
    }


@dataclass(frozen=True)
class LoopFigures:
    table1_due: int  # announced, not received, not yet past due
    table1_missing: int  # announced, not received, past due
    table1_on_time: int
    table1_late: int
    supervision_open: int
    supervision_overdue: int


def loop_figures(session: Session, today: date) -> LoopFigures:
    def count(*where: Any, model: Any = Consultation) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return LoopFigures(
        table1_due=count(Consultation.planned.is_(True), Consultation.received_at.is_(None), Consultation.due_on >= today),
        table1_missing=count(Consultation.planned.is_(True), Consultation.received_at.is_(None), Consultation.due_on < today),
        table1_on_time=count(Consultation.received_at.is_not(None), Consultation.late.is_(False)),
        table1_late=count(Consultation.received_at.is_not(None), Consultation.late.is_(True)),
        supervision_open=count(Supervision.state == "open", model=Supervision),
        supervision_overdue=count(Supervision.state == "open", Supervision.due_on < today, model=Supervision),
    )
