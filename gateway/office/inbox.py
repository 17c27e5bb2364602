"""The clue inbox (线索) of the office's pages: what a user may see, the list, one clue, acknowledging it, a note.

Plain functions over a session, so that the rules (who sees what, which packet
a user signs for) are tested without a server. Only masked texts leave here.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from gateway.db.models import AuditEntry, Clue, ClueForward, ConsultationItem, Packet, PacketClue, Report, ReportWorkOrder, Supervision, Topic, WorkOrder
from gateway.delivery.acknowledge import AckResult, acknowledge_packet
from gateway.errors import Forbidden, NotFound, ValidationFailed
from gateway.office.accounts import Viewer, audit
from gateway.periods import KIND_NAMES, SHANGHAI, chinese_date
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.routing_rules import CLUE_TYPES, RoutingConfig

STATES = {"new": "未签收", "acknowledged": "已签收", "forwarded": "已转交", "in_consultation": "协商中", "consulted": "已协商"}
PAGE_SIZE = 20
WORK_ORDERS_SHOWN = 200
NOTE_MAX = 2000
# The usual English status words of a push, as the office says them; a platform's own (已办结, 办理中) are shown as they are.
_STATUS = {"closed": "已办结", "open": "办理中", "processing": "办理中", "pending": "待办理", "returned": "已退回", "resolved": "已解决"}
_TICKET = re.compile(r"[A-Za-z0-9-]{6,64}")


@dataclass(frozen=True)
class InboxFilter:
    report: str = ""
    committee: str = ""
    clue_type: str = ""
    state: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: Any) -> "InboxFilter":
        """From the request's query string; anything unknown is ignored rather than refused (a hand-edited URL still shows a page)."""
        def one(name: str, allowed: Any = None) -> str:
            value = str(query.get(name, "")).strip()[:100]
            return value if allowed is None or value in allowed else ""

        try:
            page = max(1, min(int(query.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        return cls(report=one("report"), committee=one("committee"), clue_type=one("type", CLUE_TYPES), state=one("state", STATES),
                   q=one("q"), page=page)


@dataclass(frozen=True)
class ClueRow:
    clue_id: str
    title: str
    type_name: str
    committee: str
    score: float
    rank: int
    work_orders: int
    citizens: int
    report: str
    period: str
    places: str
    state: str
    state_name: str


@dataclass(frozen=True)
class InboxPage:
    rows: list[ClueRow]
    total: int
    page: int
    pages: int
    reports: list[tuple[str, str]]
    committees: list[tuple[str, str]]
    scope: str


def committee_short(routing: RoutingConfig, committee_id: str) -> str:
    try:
        return routing.committee(committee_id).short
    except KeyError:  # removed from the configuration since
        return committee_id


def signs_for(viewer: Viewer, routing: RoutingConfig) -> str | None:
    """Whose packets this user may acknowledge: a committee user its committee's; the office those of its own triage (区政协办公室).

    The office does not sign for a committee: the reminder (催阅) and the digest would then say a committee read what it did not.
    """
    if viewer.role == "committee":
        return viewer.committee_id
    if viewer.role == "office":
        return routing.triage
    return None


def _scope(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.role == "office":
        return true()
    if viewer.role == "committee":
        received = select(PacketClue.clue_pk).join(Packet, Packet.id == PacketClue.packet_pk).where(Packet.committee_id == viewer.committee_id)
        return or_(Clue.committee_id == viewer.committee_id, Clue.id.in_(received))
    if viewer.role == "workstation":  # what was forwarded to it (转交, gateway/office/forwarding.py)
        return Clue.id.in_(select(ClueForward.clue_pk).where(ClueForward.workstation == viewer.workstation))
    return false()


def _acknowledged_at(viewer: Viewer) -> Any:
    """When the packet that carried the clue to its committee (for a committee user: to that committee) was acknowledged."""
    owner = Clue.committee_id if viewer.role != "committee" else viewer.committee_id
    return (select(func.max(Packet.acknowledged_at)).join(PacketClue, PacketClue.packet_pk == Packet.id)
            .where(PacketClue.clue_pk == Clue.id, Packet.committee_id == owner).correlate(Clue).scalar_subquery())


def _consulted(session: Session) -> dict[str, str]:
    """Clues a filed Table 1 names: 协商中 while an item naming it is still under supervision (督办, open), else 已协商."""
    out: dict[str, str] = {}
    rows = session.execute(select(ConsultationItem.clue_ids, Supervision.state).outerjoin(
        Supervision, (Supervision.consultation_pk == ConsultationItem.consultation_pk) & (Supervision.item_seq == ConsultationItem.seq)))
    for ids, supervised in rows:
        for cid in ids or []:
            if supervised == "open":
                out[cid] = "in_consultation"
            else:
                out.setdefault(cid, "consulted")
    return out


def _forwarded() -> Any:
    return select(ClueForward.clue_pk)


def _state(acknowledged_at: datetime | None, clue_id: str, consulted: dict[str, str], forwarded: bool = False) -> str:
    if clue_id in consulted:
        return consulted[clue_id]
    return "forwarded" if forwarded else "acknowledged" if acknowledged_at is not None else "new"


def _places_text(places: list[dict[str, Any]], key: str = "street") -> str:
    return "、".join(f"{p.get(key)}（{p.get('count')}件）" for p in places[:4]) + ("等" if len(places) > 4 else "")


def _report_label(kind: str, report_id: str) -> str:
    return f"{KIND_NAMES.get(kind, kind)} {report_id}"


def _words(values: list[Any]) -> str:
    out = []
    for value in values or []:
        out.extend(str(v) for v in value.values()) if isinstance(value, dict) else out.append(str(value))
    return " ".join(out)


def _matching(session: Session, conditions: list[ColumnElement[bool]], q: str) -> set[int]:
    """Clues whose title, reason, keywords or places hold the words, or behind which is the work order of this ticket number.

    The words are looked for here rather than in SQL: keywords and places are JSON, stored escaped, so LIKE cannot find a Chinese word in them.
    """
    found: set[int] = set()
    if _TICKET.fullmatch(q):
        found.update(pk for pk in session.scalars(
            select(ReportWorkOrder.clue_pk).join(WorkOrder, WorkOrder.id == ReportWorkOrder.work_order_pk)
            .where(WorkOrder.ticket_no == q, ReportWorkOrder.clue_pk.is_not(None))) if pk is not None)
    words = q.split()
    rows = session.execute(select(Clue.id, Clue.title, Clue.reason, Clue.keywords, Clue.places, Clue.named_places)
                           .join(Report, Report.id == Clue.report_pk).where(*conditions))
    for pk, title, reason, keywords, places, named in rows:
        text = " ".join((title or "", reason or "", _words(keywords), _words(places), _words(named)))
        if all(word in text for word in words):
            found.add(pk)
    return found


def inbox(session: Session, viewer: Viewer, routing: RoutingConfig, wanted: InboxFilter) -> InboxPage:
    """The clues this user may see, hottest first, filtered and searched, one page of them."""
    conditions: list[ColumnElement[bool]] = [_scope(viewer)]
    if wanted.report:
        conditions.append(Report.report_id == wanted.report)
    if wanted.committee and viewer.role == "office":
        conditions.append(Clue.committee_id == wanted.committee)
    if wanted.clue_type:
        conditions.append(Clue.clue_type == wanted.clue_type)
    acknowledged_at = _acknowledged_at(viewer)
    consulted = _consulted(session)
    if wanted.state in ("consulted", "in_consultation"):
        conditions.append(Clue.clue_id.in_([cid for cid, st in consulted.items() if st == wanted.state]))
    elif wanted.state:
        conditions.append(not_(Clue.clue_id.in_(list(consulted))))
        if wanted.state == "forwarded":
            conditions.append(Clue.id.in_(_forwarded()))
        else:
            conditions.append(not_(Clue.id.in_(_forwarded())))
            conditions.append(acknowledged_at.is_(None) if wanted.state == "new" else acknowledged_at.is_not(None))
    if wanted.q:
        conditions.append(Clue.id.in_(_matching(session, conditions, wanted.q)))

    base: Select[Any] = select(Clue, Report.report_id, Report.kind, acknowledged_at).join(Report, Report.id == Clue.report_pk).where(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(wanted.page, pages)
    rows = session.execute(base.order_by(Clue.score.desc(), Clue.rank, Clue.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    out = []
    forwarded = set(session.scalars(_forwarded().where(ClueForward.clue_pk.in_([row[0].id for row in rows]))))
    for clue, report_id, kind, ack_at in rows:
        state = _state(ack_at, clue.clue_id, consulted, clue.id in forwarded)
        out.append(ClueRow(
            clue_id=clue.clue_id, title=clue.title, type_name=CLUE_TYPES.get(clue.clue_type, clue.clue_type),
            committee=committee_short(routing, clue.committee_id), score=clue.score, rank=clue.rank, work_orders=clue.work_order_count,
            citizens=clue.citizen_count, report=_report_label(kind, report_id), period=clue.period_label,
            places=_places_text(clue.places or []), state=state, state_name=STATES[state],
        ))
    reports = session.execute(
        select(Report.report_id, Report.kind).join(Clue, Clue.report_pk == Report.id).where(_scope(viewer))
        .group_by(Report.id, Report.report_id, Report.kind).order_by(Report.id.desc()).limit(200)).all()
    scope = ("全部委室" if viewer.role == "office" else
             committee_short(routing, viewer.committee_id or "") if viewer.role == "committee" else viewer.workstation or "")
    return InboxPage(rows=out, total=total, page=page, pages=pages,
                     reports=[(rid, _report_label(kind, rid)) for rid, kind in reports],
                     committees=[(c.id, c.short) for c in routing.committees], scope=scope)


@dataclass(frozen=True)
class PacketLine:
    packet_id: str
    committee: str
    copy: bool
    state: str
    acknowledged: str
    acknowledged_by: str
    mine: bool


@dataclass(frozen=True)
class WorkOrderLine:
    ticket_no: str
    received: str
    place: str
    category: str
    status: str
    content: str


@dataclass(frozen=True)
class NoteLine:
    at: str
    by: str
    text: str


@dataclass(frozen=True)
class TrendPoint:
    label: str
    count: int
    current: bool


@dataclass(frozen=True)
class ClueDetail:
    clue_id: str
    title: str
    type_name: str
    reason: str
    committee: str
    shared_with: str
    score: float
    rank: int
    work_orders: int
    citizens: int
    issues: int
    likes: int
    report: str
    period: str
    span: str
    trend: str
    places: str
    named_places: str
    keywords: list[str]
    samples: list[str]
    workstations: list[str]
    state: str
    state_name: str
    packets: list[PacketLine]
    work_order_lines: list[WorkOrderLine]
    notes: list[NoteLine]
    topic: str
    history: list[TrendPoint] = field(default_factory=list)
    can_acknowledge: bool = False

    @property
    def history_max(self) -> int:
        return max((p.count for p in self.history), default=0)


def _when(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


def visible_clue(session: Session, viewer: Viewer, clue_id: str) -> Clue:
    """The clue, if this user may see it: 404 when there is none, 403 when it is another committee's."""
    clue = session.scalar(select(Clue).where(Clue.clue_id == clue_id))
    if clue is None:
        raise NotFound("没有这条线索，请从线索列表进入。")
    if not session.scalar(select(func.count()).select_from(Clue).where(Clue.id == clue.id, _scope(viewer))):
        raise Forbidden("这条线索不属于本单位承办，无权查看。如需了解，请联系区政协办公室。")
    return clue


def clue_detail(session: Session, viewer: Viewer, routing: RoutingConfig, clue_id: str) -> ClueDetail:
    clue = visible_clue(session, viewer, clue_id)
    report = session.get(Report, clue.report_pk)
    assert report is not None
    ack_at = session.scalar(select(_acknowledged_at(viewer)).select_from(Clue).where(Clue.id == clue.id))
    forwarded = session.scalar(select(func.count()).select_from(ClueForward).where(ClueForward.clue_pk == clue.id)) or 0
    state = _state(ack_at, clue.clue_id, _consulted(session), forwarded > 0)
    owner = signs_for(viewer, routing)

    packets = []
    for packet, copy in session.execute(select(Packet, PacketClue.copy).join(PacketClue, PacketClue.packet_pk == Packet.id)
                                        .where(PacketClue.clue_pk == clue.id).order_by(Packet.id)):
        if viewer.role == "committee" and packet.committee_id != viewer.committee_id:
            continue  # another committee's copy is its own business
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "acknowledge", AuditEntry.target == packet.packet_id)
                               .order_by(AuditEntry.id).limit(1))
        by = "" if packet.acknowledged_at is None else ("邮件确认链接" if entry is None or entry.username is None else entry.username)
        packets.append(PacketLine(packet.packet_id, committee_short(routing, packet.committee_id), copy, packet.state,
                                  _when(packet.acknowledged_at), by, packet.committee_id == owner))

    lines = []
    rows = session.execute(select(WorkOrder).join(ReportWorkOrder, ReportWorkOrder.work_order_pk == WorkOrder.id)
                           .where(ReportWorkOrder.clue_pk == clue.id).order_by(WorkOrder.received_at, WorkOrder.id).limit(WORK_ORDERS_SHOWN)).scalars()
    for order in rows:
        place = "".join(p for p in (order.street, order.community) if p)
        lines.append(WorkOrderLine(order.ticket_no, _when(order.received_at), place, "·".join(order.category or []),
                                   _STATUS.get(order.status or "", order.status or ""),
                                   order.content_masked))

    notes = [NoteLine(_when(e.at), e.username or "", str(e.detail.get("text", ""))) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "note", AuditEntry.target == clue.clue_id).order_by(AuditEntry.id))]

    history: list[TrendPoint] = []
    topic = ""
    if clue.topic_pk is not None:
        topic = session.scalar(select(Topic.title).where(Topic.id == clue.topic_pk)) or ""
        earlier = session.execute(
            select(Clue.id, Clue.work_order_count, Report.kind, Report.report_id, Report.period_start)
            .join(Report, Report.id == Clue.report_pk).where(Clue.topic_pk == clue.topic_pk, Clue.committee_id == clue.committee_id)
            .order_by(Report.id.desc()).limit(12)).all()
        history = [TrendPoint(f"{KIND_NAMES.get(kind, kind)} {period.strftime('%m-%d') if period else rid}", n, pk == clue.id)
                   for pk, n, kind, rid, period in reversed(earlier)]

    can_ack = any(p.mine and not p.acknowledged for p in packets)
    first, last = clue.first_received_at, clue.last_received_at
    span = ""
    if first and last:
        a, b = first.astimezone(SHANGHAI).date(), last.astimezone(SHANGHAI).date()
        span = chinese_date(a) if a == b else f"{chinese_date(a)}至{chinese_date(b)}"
    return ClueDetail(
        clue_id=clue.clue_id, title=clue.title, type_name=CLUE_TYPES.get(clue.clue_type, clue.clue_type), reason=clue.reason,
        committee=committee_short(routing, clue.committee_id),
        shared_with="、".join(committee_short(routing, c) for c in clue.shared_with or []),
        score=clue.score, rank=clue.rank, work_orders=clue.work_order_count, citizens=clue.citizen_count, issues=clue.issue_count,
        likes=clue.likes, report=_report_label(report.kind, report.report_id), period=clue.period_label, span=span, trend=clue.trend,
        places=_places_text(clue.places or []), named_places=_places_text(clue.named_places or [], "place"),
        keywords=list(clue.keywords or []), samples=list(clue.samples or []), workstations=list(clue.workstations or []),
        state=state, state_name=STATES[state], packets=packets, work_order_lines=lines, notes=notes, topic=topic, history=history,
        can_acknowledge=can_ack,
    )


def acknowledge_clue(session: Session, viewer: Viewer, routing: RoutingConfig, clue_id: str) -> list[AckResult]:
    """签收: the same acknowledgement as the packet email's link, of the packet(s) that brought this clue to the user's committee. Commits."""
    clue = visible_clue(session, viewer, clue_id)
    owner = signs_for(viewer, routing)
    packet_ids = list(session.scalars(select(Packet.packet_id).join(PacketClue, PacketClue.packet_pk == Packet.id)
                                      .where(PacketClue.clue_pk == clue.id, Packet.committee_id == owner).order_by(Packet.id))) if owner else []
    if not packet_ids:
        raise Forbidden("这条线索不在本单位收到的线索包中，由承办委室签收。")
    results = [acknowledge_packet(session, packet_id, confirm=True, by=viewer.username) for packet_id in packet_ids]
    session.commit()
    return results


def add_note(session: Session, viewer: Viewer, clue_id: str, text: str) -> None:
    """A note on a clue (办理意见/备注), kept in the audit log with who and when; masked like every text the pages show. Commits."""
    clue = visible_clue(session, viewer, clue_id)
    text = text.strip()
    if not text:
        raise ValidationFailed("备注内容不能为空。")
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"备注不能超过{NOTE_MAX}字。")
    audit(session, "note", username=viewer.username, target=clue.clue_id, text=mask_text(text))
    session.commit()

