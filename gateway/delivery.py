"""Delivery stage: send a packet to each recipient, recording before and after each send.

A crash between "sent" and "recorded" leaves the delivery in state `sending`;
the next attempt sends it again with the same Message-ID, so the mailbox (and
our tests) can tell it is the same packet, never a new one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.mail import MailTransport
from gateway.db.models import Delivery, Packet, Report, utcnow
from gateway.errors import TransientError
from gateway.packets import packet_view, render_email
from gateway.routing import RoutingConfig
from gateway.uow import UnitOfWorkFactory

OPEN_STATES = ("pending", "sending", "retry")


@dataclass(frozen=True)
class DeliveryOutcome:
    sent: int
    failed: int
    waiting: int


def handle_deliver_packet(
    packet_pk: int,
    uow_factory: UnitOfWorkFactory,
    *,
    transport: MailTransport,
    routing: RoutingConfig,
    sender: str,
    outbox_id: int | None = None,
) -> DeliveryOutcome:
    # 1. Claim the open deliveries and write "sending" before anything leaves.
    with uow_factory() as uow:
        packet = uow.session.get(Packet, packet_pk)
        if packet is None:
            uow.mark_done(outbox_id)
            uow.commit()
            return DeliveryOutcome(0, 0, 0)
        deliveries = uow.session.scalars(
            select(Delivery).where(Delivery.packet_pk == packet.id, Delivery.state.in_(OPEN_STATES)).order_by(Delivery.id)
        ).all()
        allowed = routing.allowed_recipients()
        for d in deliveries:
            if d.recipient not in allowed:
                d.state, d.last_error = "failed", "address is not in the routing configuration"
        targets = [d for d in deliveries if d.state != "failed"]
        for d in targets:
            d.state, d.attempts = "sending", d.attempts + 1
        view = packet_view(uow.session, packet, routing)
        created_at: datetime = packet.created_at
        name = f"{packet.packet_id}-r{packet.revision}"
        message_id = targets[0].message_id if targets else None
        uow.commit()

    # 2. Send (outside any transaction: the mail server may be slow).
    results = {}
    error: TransientError | None = None
    if targets and message_id:
        message = render_email(view, sender=sender, recipients=[d.recipient for d in targets], message_id=message_id, date=created_at)
        try:
            results = transport.send(message, [d.recipient for d in targets], name=name)
        except TransientError as exc:
            error = exc

    # 3. Record what happened to each recipient.
    with uow_factory() as uow:
        packet = uow.session.get(Packet, packet_pk)
        assert packet is not None
        for d in uow.session.scalars(select(Delivery).where(Delivery.packet_pk == packet_pk, Delivery.state == "sending")):
            result = results.get(d.recipient)
            if result is None:
                d.state, d.last_error = "retry", str(error) if error else "not attempted"
            elif result.ok:
                d.state, d.sent_at, d.last_error = "sent", utcnow(), None
            elif result.permanent:
                d.state, d.last_error = "failed", result.error
            else:
                d.state, d.last_error = "retry", result.error
        counts = dict(uow.session.execute(
            select(Delivery.state, func.count()).where(Delivery.packet_pk == packet_pk).group_by(Delivery.state)
        ).all())
        outcome = DeliveryOutcome(
            sent=counts.get("sent", 0), failed=counts.get("failed", 0),
            waiting=sum(counts.get(s, 0) for s in OPEN_STATES),
        )
        if outcome.waiting == 0:
            packet.state = "delivered" if outcome.failed == 0 else ("partial" if outcome.sent else "failed")
            packet.delivered_at = utcnow()
            packet.location = transport.location
            _finish_report_if_complete(uow.session, packet.report_pk)
            uow.mark_done(outbox_id)
        uow.commit()
    if outcome.waiting:
        raise TransientError(f"packet {view.packet_id}: {outcome.waiting} recipient(s) still waiting: {error or 'retrying'}")
    return outcome


def _finish_report_if_complete(session: Session, report_pk: int) -> None:
    # Lock the report first: two workers finishing the last two packets at once
    # would otherwise each see the other's packet still pending.
    report = session.get(Report, report_pk, with_for_update=True)
    session.flush()
    open_packets = session.scalar(
        select(func.count()).select_from(Packet).where(Packet.report_pk == report_pk, Packet.state == "pending")
    )
    if open_packets == 0 and report is not None and report.state == "routed":
        report.state, report.delivered_at = "delivered", utcnow()
