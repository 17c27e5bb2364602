"""The gateway's own emails: the office's daily digest (每日汇总) and the one reminder (催阅) per packet.

A notice is built once, stored with its bytes and a key that makes it unique
(`digest:2026-11-23`, `chase:P000001-urban`), then sent like a packet: state
written before and after the send, retried on the delivery schedule, and a send
interrupted by a crash goes out again byte for byte (same Message-ID).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy as email_policy
from email.message import EmailMessage

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.pipeline.clues import type_name
from gateway.db.models import Clue, Delivery, Notice, Packet, PacketClue, Report, utcnow
from gateway.delivery.acknowledge import AckLinks
from gateway.delivery.mail_log import OPEN_STATES, PACKET_STATE_NAMES, Mailer, settle, unacknowledged_packets
from gateway.delivery.packet_email import template_environment
from gateway.errors import TransientError
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.routing_rules import RoutingConfig

log = logging.getLogger(__name__)


def office_recipients(routing: RoutingConfig) -> list[str]:
    """The routing configuration's office_emails, or else its triage committee's: only configured addresses receive mail."""
    return list(routing.office_emails or routing.committee(routing.triage).emails)


def _store(session: Session, *, key: str, kind: str, message: EmailMessage, recipients: list[str]) -> Notice | None:
    notice = Notice(key=key, kind=kind, subject=str(message["Subject"]), recipients=recipients,
                    message_id=str(message["Message-ID"]), message=bytes(message), state="pending")
    session.add(notice)
    try:
        session.commit()
    except IntegrityError:  # made already (another process, or an earlier run): at most one per key
        session.rollback()
        return None
    return notice


def send_due(mailer: Mailer, *, now: datetime | None = None) -> int:
    """Send every notice that is due; returns how many went out."""
    now = now or mailer.clock()
    with mailer.sessions() as session:
        due = list(session.scalars(select(Notice.id).where(
            Notice.state.in_(OPEN_STATES), or_(Notice.next_attempt_at.is_(None), Notice.next_attempt_at <= now),
        ).order_by(Notice.id)))
    sent = 0
    for notice_pk in due:
        try:
            sent += _send_one(mailer, notice_pk)
        except Exception:  # one notice that cannot be sent must not hold back the others
            log.exception("notice %s could not be sent; the other notices go on", notice_pk)
            mailer.metrics.sweep_failures.labels("notice").inc()
    return sent


def _send_one(mailer: Mailer, notice_pk: int) -> bool:
    with mailer.sessions() as session:
        notice = session.get(Notice, notice_pk)
        assert notice is not None
        notice.state, notice.attempts = "sending", notice.attempts + 1
        session.commit()
        message = message_from_bytes(notice.message, policy=email_policy.default)
        recipients, key, kind, created_at = list(notice.recipients), notice.key, notice.kind, notice.created_at
    try:
        results = mailer.transport.send(message, recipients, name=key.replace(":", "-"))  # type: ignore[arg-type]
        error = None
    except TransientError as exc:
        results, error = {}, str(exc)
    with mailer.sessions() as session:
        notice = session.get(Notice, notice_pk)
        assert notice is not None
        now = mailer.clock()
        # One notice goes to all its recipients at once: it is sent when none is left to try again
        # (sending again would give those who have it a copy twice), failed when nobody got it.
        each = [settle(results.get(r), error, attempts=notice.attempts, started=created_at, now=now, policy=mailer.policy) for r in recipients]
        refused = "; ".join(f"{r}: {e.error}" for r, e in zip(recipients, each) if e.state != "sent") or None
        if not any(e.state == "retry" for e in each) and any(e.state == "sent" for e in each):
            notice.state, notice.sent_at, notice.last_error, notice.next_attempt_at = "sent", now, refused, None
            notice.location = mailer.transport.location
        elif not any(e.state == "retry" for e in each):
            notice.state, notice.last_error, notice.next_attempt_at = "failed", refused, None
        else:
            retry_at = min(e.next_attempt_at for e in each if e.next_attempt_at is not None)
            notice.state, notice.last_error, notice.next_attempt_at = "retry", error or refused, retry_at
        state = notice.state
        session.commit()
    mailer.metrics.notices.labels(kind, state).inc()
    if state == "failed":
        log.error("notice %s could not be delivered: %s", key, notice.last_error)
    return state == "sent"


def queue_notice(mailer: Mailer, session: Session, *, key: str, kind: str, recipients: list[str], subject: str, text: str) -> Notice | None:
    """A plain-text notice, made once per key (the caller commits its own changes and then calls send_due)."""
    message = mailer.compose(subject=subject, recipients=recipients, message_id=f"<{key.replace(':', '.')}@{mailer.domain}>", text=text)
    return _store(session, key=key, kind=kind, message=message, recipients=recipients)


# ---- 催阅: one reminder per packet not acknowledged in time -------------------------------------------


def chase_unacknowledged(mailer: Mailer, routing: RoutingConfig, links: AckLinks, *, chase_after_h: float,
                         now: datetime | None = None) -> list[str]:
    """Queue a reminder for each delivered packet not acknowledged within `chase_after_h` hours; returns their packet ids."""
    now = now or mailer.clock()
    env = template_environment()
    chased = []
    with mailer.sessions() as session:
        overdue = session.scalars(unacknowledged_packets(now - timedelta(hours=chase_after_h)).where(Packet.chased_at.is_(None)).order_by(Packet.id)).all()
        for packet in overdue:
            try:
                committee = routing.committee(packet.committee_id)
                recipients = list(session.scalars(select(Delivery.recipient).where(Delivery.packet_pk == packet.id, Delivery.state == "sent")))
                if recipients:
                    text = env.get_template("chase.txt.j2").render(
                        committee=committee, packet=packet, sent_on=chinese_date(packet.delivered_at.astimezone(SHANGHAI).date()),
                        url=links.url(packet.packet_id, packet.revision, packet.created_at),
                    )
                    message = mailer.compose(subject=f"【催阅】{packet.subject}", recipients=recipients,
                                             message_id=f"<{packet.packet_id}.chase@{mailer.domain}>", text=text)
                    _store(session, key=f"chase:{packet.packet_id}", kind="chase", message=message, recipients=recipients)
                packet.chased_at = now
                session.commit()
            except Exception:  # one packet's reminder must not stop the others'; tried again at the next sweep
                session.rollback()
                log.exception("reminder (催阅) for %s could not be made; the other reminders go on", packet.packet_id)
                mailer.metrics.sweep_failures.labels("chase").inc()
                continue
            mailer.metrics.chases.inc()
            chased.append(packet.packet_id)
    if chased:
        send_due(mailer)
    return chased


def unacknowledged_overdue(session: Session, chase_after_h: float, *, now: datetime) -> int:
    cutoff = now - timedelta(hours=chase_after_h)
    return session.scalar(select(func.count()).select_from(unacknowledged_packets(cutoff).subquery())) or 0


# ---- 每日汇总: the office's copy of the day ----------------------------------------------------------


@dataclass(frozen=True)
class DigestPacket:
    packet_id: str
    committee: str
    clues: int
    work_orders: int
    state: str
    acknowledged: bool


@dataclass(frozen=True)
class DigestClue:
    clue_id: str
    committee: str
    type_name: str
    title: str
    work_orders: int
    places: str


@dataclass(frozen=True)
class Digest:
    day: date
    day_text: str
    reports: int
    work_orders: int
    packets: list[DigestPacket]
    clues: list[DigestClue]
    triage: list[DigestClue]
    failed: list[tuple[str, str, str]]  # packet id, recipient, error
    unacknowledged: list[tuple[str, str, str]]  # packet id, committee, delivered on

    @property
    def subject(self) -> str:
        return f"【每日汇总】{self.day_text} · 分办线索{len(self.clues)}条 · 待分办{len(self.triage)}条"


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def build_digest(session: Session, routing: RoutingConfig, day: date, *, chase_after_h: float, now: datetime) -> Digest:
    start, end = _day_bounds(day)
    reports = session.scalar(select(func.count()).select_from(Report).where(Report.routed_at >= start, Report.routed_at < end)) or 0
    clue_rows = session.scalars(select(Clue).where(Clue.created_at >= start, Clue.created_at < end).order_by(Clue.id)).all()

    def clue(c: Clue) -> DigestClue:
        places = "、".join(str(p["street"]) for p in c.places[:4]) + ("等" if len(c.places) > 4 else "")
        return DigestClue(c.clue_id, routing.committee(c.committee_id).short, type_name(c.clue_type), c.title, c.work_order_count, places)

    # Each packet of the day with its clue and work-order counts, in one query.
    packets = [
        DigestPacket(packet.packet_id, routing.committee(packet.committee_id).short, int(clues), int(orders),
                     PACKET_STATE_NAMES.get(packet.state, packet.state), packet.acknowledged_at is not None)
        for packet, clues, orders in session.execute(
            select(Packet, func.count(Clue.id), func.coalesce(func.sum(Clue.work_order_count), 0))
            .outerjoin(PacketClue, PacketClue.packet_pk == Packet.id).outerjoin(Clue, Clue.id == PacketClue.clue_pk)
            .where(Packet.created_at >= start, Packet.created_at < end).group_by(Packet.id).order_by(Packet.id)
        )
    ]
    failed = [
        (pid, recipient, error or "")
        for pid, recipient, error in session.execute(
            select(Packet.packet_id, Delivery.recipient, Delivery.last_error).join(Packet, Packet.id == Delivery.packet_pk)
            .where(Delivery.state == "failed", Delivery.updated_at >= start, Delivery.updated_at < end).order_by(Delivery.id)
        )
    ]
    unacknowledged = [
        (p.packet_id, routing.committee(p.committee_id).short, chinese_date(p.delivered_at.astimezone(SHANGHAI).date()))
        for p in session.scalars(unacknowledged_packets(now - timedelta(hours=chase_after_h)).order_by(Packet.id))
    ]
    routed = sum(c.work_order_count for c in clue_rows if not c.triage)
    return Digest(
        day=day, day_text=chinese_date(day), reports=reports, work_orders=routed, packets=packets,
        clues=[clue(c) for c in clue_rows if not c.triage], triage=[clue(c) for c in clue_rows if c.triage],
        failed=failed, unacknowledged=unacknowledged,
    )


def render_digest(mailer: Mailer, digest: Digest, recipients: list[str]) -> EmailMessage:
    env = template_environment()
    return mailer.compose(
        subject=digest.subject, recipients=recipients, message_id=f"<digest-{digest.day.isoformat()}@{mailer.domain}>",
        text=env.get_template("digest.txt.j2").render(d=digest), html=env.get_template("digest.html.j2").render(d=digest),
    )


def send_digest(mailer: Mailer, routing: RoutingConfig, day: date, *, chase_after_h: float) -> bool:
    """Make the day's digest (once) and send it; False if it was made before."""
    recipients = office_recipients(routing)
    with mailer.sessions() as session:
        digest = build_digest(session, routing, day, chase_after_h=chase_after_h, now=mailer.clock())
        made = _store(session, key=f"digest:{day.isoformat()}", kind="digest", message=render_digest(mailer, digest, recipients), recipients=recipients)
    send_due(mailer)
    return made is not None
