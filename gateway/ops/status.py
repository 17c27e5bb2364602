"""Where a report's records are, what became of one work order, and one clue (read side)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.status import ClueStatus, DeliveryStatus, PacketStatus, RecordCounts, ReportStatus, WorkOrderStatus
from gateway.db.models import Clue, Delivery, Issue, Packet, PacketClue, Report, ReportWorkOrder, Topic, WorkOrder
from gateway.errors import NotFound
from gateway.pipeline.routing_rules import CLUE_TYPES, RoutingConfig


def report_status(session: Session, client_id: str | None, report_id: str, routing: RoutingConfig) -> ReportStatus:
    """A report of this client (client_id None: of any client, the newest of that id)."""
    query = select(Report).where(Report.report_id == report_id)
    if client_id is not None:
        query = query.where(Report.client_id == client_id)
    report = session.scalar(query.order_by(Report.id.desc()).limit(1))
    if report is None:
        raise NotFound(f"no report {report_id!r}" + (f" from client {client_id!r}" if client_id else ""))
    rwo = ReportWorkOrder
    normalized = session.scalar(select(func.count()).select_from(rwo).where(rwo.report_pk == report.id)) or 0
    duplicates = session.scalar(select(func.count()).select_from(rwo).where(rwo.report_pk == report.id, rwo.seen_before.is_(True))) or 0
    excluded = dict(session.execute(
        select(rwo.excluded_reason, func.count()).where(rwo.report_pk == report.id, rwo.excluded_reason.is_not(None)).group_by(rwo.excluded_reason)
    ).all())
    routed = session.scalar(select(func.count()).select_from(rwo).where(rwo.report_pk == report.id, rwo.clue_pk.is_not(None))) or 0
    delivered = session.scalar(
        select(func.count()).select_from(rwo)
        .join(PacketClue, PacketClue.clue_pk == rwo.clue_pk)
        .join(Packet, Packet.id == PacketClue.packet_pk)
        .where(rwo.report_pk == report.id, PacketClue.copy.is_(False), Packet.state.in_(("delivered", "partial")))
    ) or 0
    packets = []
    for packet in session.scalars(select(Packet).where(Packet.report_pk == report.id).order_by(Packet.id)):
        deliveries = session.scalars(select(Delivery).where(Delivery.packet_pk == packet.id).order_by(Delivery.id)).all()
        packets.append(PacketStatus(
            packet_id=packet.packet_id,
            committee=_committee_name(routing, packet.committee_id),
            subject=packet.subject,
            state=packet.state,
            clues=session.scalar(select(func.count()).select_from(PacketClue).where(PacketClue.packet_pk == packet.id)) or 0,
            location=packet.location,
            deliveries=[
                DeliveryStatus(recipient=d.recipient, state=d.state, attempts=d.attempts, message_id=d.message_id, last_error=d.last_error)
                for d in deliveries
            ],
        ))
    return ReportStatus(
        report_id=report.report_id,
        receipt_id=report.receipt_id,
        kind=report.kind,
        source=report.source,
        state=report.state,
        received_at=report.received_at,
        records=RecordCounts(
            received=report.record_count,
            rejected=len(report.rejected or []),
            normalized=normalized,
            duplicates=duplicates,
            excluded=sum(excluded.values()),
            excluded_by_reason=excluded,
            routed=routed,
            delivered=delivered,
        ),
        clues=session.scalar(select(func.count()).select_from(Clue).where(Clue.report_pk == report.id)) or 0,
        packets=packets,
    )


def _committee_name(routing: RoutingConfig, committee_id: str) -> str:
    # A committee removed from the configuration since keeps its id in the answer.
    try:
        return routing.committee(committee_id).name
    except KeyError:
        return committee_id


def work_order_status(session: Session, client_id: str | None, ticket_no: str, routing: RoutingConfig) -> WorkOrderStatus:
    """A work order as it appeared in this client's reports (client_id None: in anyone's); another client's is not found."""
    order = session.scalar(select(WorkOrder).where(WorkOrder.ticket_no == ticket_no))
    query = (
        select(Report.report_id, Clue)
        .select_from(ReportWorkOrder)
        .join(Report, Report.id == ReportWorkOrder.report_pk)
        .outerjoin(Clue, Clue.id == ReportWorkOrder.clue_pk)
        .where(ReportWorkOrder.work_order_pk == (order.id if order is not None else -1))
        .order_by(Report.id)
    )
    rows = session.execute(query.where(Report.client_id == client_id) if client_id is not None else query).all()
    if order is None or not rows:
        raise NotFound(f"no work order {ticket_no!r}" + (f" in a report from client {client_id!r}" if client_id else ""))
    latest_clue = next((clue for _, clue in reversed(rows) if clue is not None), None)
    packets: list[str] = []
    if latest_clue is not None:
        packets = list(session.scalars(
            select(Packet.packet_id).join(PacketClue, PacketClue.packet_pk == Packet.id).where(PacketClue.clue_pk.in_(
                [clue.id for _, clue in rows if clue is not None]
            )).order_by(Packet.id)
        ))
    issue_id = session.scalar(select(Issue.issue_id).where(Issue.id == order.issue_pk)) if order.issue_pk else None
    return WorkOrderStatus(
        ticket_no=order.ticket_no,
        category=list(order.category or []),
        category_inferred=order.category_inferred,
        category_confidence=order.category_confidence,
        excluded=order.excluded_reason,
        issue_id=issue_id,
        clue_id=latest_clue.clue_id if latest_clue else None,
        committee=_committee_name(routing, order.committee_id) if order.committee_id else None,
        workstations=list(latest_clue.workstations) if latest_clue else [],
        packets=packets,
        reports=[report_id for report_id, _ in rows],
        status=order.status,
        district=order.district,
        street=order.street,
        content=order.content_masked,
        ticket_type=order.ticket_type,
        handling_unit=order.handling_unit,
        result=order.result_masked,
        closed_at=order.closed_at,
        time_limit_days=order.time_limit_days,
        caller=order.caller_masked,
    )


def clue_status(session: Session, client_id: str | None, clue_id: str, routing: RoutingConfig) -> ClueStatus:
    """One clue of a report this client sent (client_id None: any); another client's clue is not found."""
    query = select(Clue, Report.report_id).join(Report, Report.id == Clue.report_pk).where(Clue.clue_id == clue_id)
    row = session.execute(query.where(Report.client_id == client_id) if client_id is not None else query).first()
    if row is None:
        raise NotFound(f"no clue {clue_id!r}" + (f" of a report from client {client_id!r}" if client_id else ""))
    clue, report_id = row
    topic_id = session.scalar(select(Topic.topic_id).where(Topic.id == clue.topic_pk)) if clue.topic_pk else None
    return ClueStatus(
        clue_id=clue.clue_id, report_id=report_id, committee=_committee_name(routing, clue.committee_id),
        shared_with=[_committee_name(routing, c) for c in clue.shared_with or []],
        type=clue.clue_type, type_name=CLUE_TYPES[clue.clue_type], title=clue.title, reason=clue.reason, topic_id=topic_id,
        keywords=list(clue.keywords or []), places=[*(clue.named_places or []), *clue.places],
        period={"label": clue.period_label, "first": clue.first_received_at.isoformat() if clue.first_received_at else None,
                "last": clue.last_received_at.isoformat() if clue.last_received_at else None},
        score=clue.score, rank=clue.rank, work_orders=clue.work_order_count, citizens=clue.citizen_count, issues=clue.issue_count,
        likes=clue.likes, tickets=list(clue.ticket_nos)[:1000], samples=list(clue.samples),
    )
