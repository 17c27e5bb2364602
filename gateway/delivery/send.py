"""Delivery stage: send a packet to each recipient, recording before and after each send.

A crash between "sent" and "recorded" leaves the delivery in state `sending`;
the next attempt sends it again with the same Message-ID, so the mailbox (and
our tests) can tell it is the same packet, never a new one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from gateway.db.models import Delivery, DeliveryLog, Packet, Report, utcnow
from gateway.errors import TransientError
from gateway.delivery.acknowledge import AckLinks
from gateway.delivery.mail_log import OPEN_STATES, RetryPolicy, settle
from gateway.delivery.packet_email import packet_view, render_email
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.ports import MailTransport
from gateway.queues import DELIVER
from gateway.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryOutcome:
    sent: int
    failed: int
    waiting: int
    attempted: int = 0
    retry_at: datetime | None = None
    failed_now: int = 0
    report_done: "ReportTimes | None" = None  # the report's last packet just went out


@dataclass(frozen=True)
class ReportTimes:
    kind: str
    received_at: datetime
    routed_at: datetime
    delivered_at: datetime


def handle_deliver_packet(
    packet_pk: int,
    uow_factory: UnitOfWorkFactory,
    *,
    transport: MailTransport,
    routing: RoutingConfig,
    sender: str,
    outbox_id: int | None = None,
    policy: RetryPolicy = RetryPolicy(),
    links: AckLinks | None = None,
) -> DeliveryOutcome:
    now = utcnow()
    # 1. Claim the deliveries that are due and write "sending" (and the send log) before anything leaves.
    with uow_factory() as uow:
        packet = uow.session.get(Packet, packet_pk)
        if packet is None:
            uow.mark_done(outbox_id)
            uow.commit()
            return DeliveryOutcome(0, 0, 0)
        deliveries = uow.session.scalars(
            select(Delivery).where(
                Delivery.packet_pk == packet.id, Delivery.state.in_(OPEN_STATES),
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            ).order_by(Delivery.id)
        ).all()
        allowed = routing.allowed_recipients()
        for d in deliveries:
            if d.recipient not in allowed:
                d.state, d.last_error = "failed", "address is not in the routing configuration"
        targets = [d for d in deliveries if d.state != "failed"]
        # A send that was started and never recorded (a crash) is re-sent below with the same Message-ID.
        uow.session.execute(
            update(DeliveryLog).where(DeliveryLog.delivery_pk.in_([d.id for d in targets]), DeliveryLog.result == "sending")
            .values(result="unconfirmed", finished_at=now, detail="the process stopped during this send; sent again with the same Message-ID")
        )
        for d in targets:
            d.state, d.attempts = "sending", d.attempts + 1
            uow.session.add(DeliveryLog(delivery_pk=d.id, attempt=d.attempts, message_id=d.message_id, started_at=now))
        view = packet_view(uow.session, packet, routing)
        created_at: datetime = packet.created_at
        name = f"{packet.packet_id}-r{packet.revision}"
        message_id = targets[0].message_id if targets else None
        uow.commit()

    # 2. Send (outside any transaction: the mail server may be slow).
    results = {}
    error: TransientError | None = None
    if targets and message_id:
        message = render_email(view, sender=sender, recipients=[d.recipient for d in targets], message_id=message_id, date=created_at, links=links)
        try:
            results = transport.send(message, [d.recipient for d in targets], name=name)
        except TransientError as exc:
            error = exc
        except Exception as exc:  # never leave a delivery "sending": record it and retry on the schedule
            log.exception("packet %s: sending failed unexpectedly", view.packet_id)
            error = TransientError(f"unexpected error while sending: {exc!r}")

    # 3. Record what happened to each recipient, and when to try again.
    failed_now = 0
    with uow_factory() as uow:
        packet = uow.session.get(Packet, packet_pk)
        assert packet is not None
        finished = utcnow()
        for d in uow.session.scalars(select(Delivery).where(Delivery.packet_pk == packet_pk, Delivery.state == "sending")):
            settled = settle(results.get(d.recipient), str(error) if error else None, attempts=d.attempts, started=created_at,
                             now=finished, policy=policy)
            d.state, d.last_error, d.next_attempt_at = settled.state, settled.error, settled.next_attempt_at
            if settled.state == "sent":
                d.sent_at = finished
            if d.state == "failed":
                failed_now += 1
                log.error("packet %s to %s failed for good: %s", packet.packet_id, d.recipient, d.last_error)
            uow.session.execute(
                update(DeliveryLog).where(DeliveryLog.delivery_pk == d.id, DeliveryLog.result == "sending")
                .values(result=d.state, finished_at=finished, detail=d.last_error)
            )
        counts = dict(uow.session.execute(
            select(Delivery.state, func.count()).where(Delivery.packet_pk == packet_pk).group_by(Delivery.state)
        ).all())
        waiting = sum(counts.get(s, 0) for s in OPEN_STATES)
        retry_at = uow.session.scalar(select(func.min(Delivery.next_attempt_at)).where(Delivery.packet_pk == packet_pk, Delivery.state == "retry"))
        outcome = DeliveryOutcome(
            sent=counts.get("sent", 0), failed=counts.get("failed", 0), waiting=waiting,
            attempted=len(targets), retry_at=retry_at, failed_now=failed_now,
        )
        if waiting == 0:
            packet.state = "delivered" if outcome.failed == 0 else ("partial" if outcome.sent else "failed")
            packet.delivered_at = utcnow()
            packet.location = transport.location
            log.info("packet %s", packet.state, extra={"packet_id": packet.packet_id})
            done = _finish_report_if_complete(uow.session, packet.report_pk)
            if done is not None:
                outcome = replace(outcome, report_done=done)
            uow.mark_done(outbox_id)
        uow.commit()
    if outcome.attempted and outcome.retry_at is not None and outbox_id is not None and uow_factory.dispatch is not None:
        # The next try on the schedule, after the commit. Only after a real attempt, so that a re-dispatch
        # by the sweep (which finds nothing due) does not multiply the waiting messages; if this delayed
        # message is lost, the sweep's re-dispatch finds the delivery due and sends it.
        delay_ms = max(0, int((outcome.retry_at - utcnow()).total_seconds() * 1000))
        uow_factory.dispatch.later((outbox_id, DELIVER, {"packet_pk": packet_pk}), delay_ms)
    return outcome


def _finish_report_if_complete(session: Session, report_pk: int) -> ReportTimes | None:
    # Lock the report first: two workers finishing the last two packets at once
    # would otherwise each see the other's packet still pending.
    report = session.get(Report, report_pk, with_for_update={"key_share": True})
    session.flush()
    open_packets = session.scalar(
        select(func.count()).select_from(Packet).where(Packet.report_pk == report_pk, Packet.state == "pending")
    )
    if open_packets == 0 and report is not None and report.state == "routed":
        report.state, report.delivered_at = "delivered", utcnow()
        if report.routed_at is not None:
            return ReportTimes(report.kind, report.received_at, report.routed_at, report.delivered_at)
    return None
