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
from email.utils import format_datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.pipeline.clues import type_name
from gateway.db.models import Clue, Delivery, Notice, Packet, PacketClue, Report, utcnow
from gateway.delivery.send import RetryPolicy
from gateway.errors import TransientError
from gateway.delivery.packet_email import template_environment
from gateway.periods import SHANGHAI, chinese_date

if TYPE_CHECKING:
    from gateway.bootstrap import Gateway

log = logging.getLogger(__name__)
OPEN = ("pending", "sending", "retry")


def office_recipients(gateway: "Gateway") -> list[str]:
    """The routing configuration's office_emails, or else its triage committee's: only configured addresses receive mail."""
    return list(gateway.routing.office_emails or gateway.routing.committee(gateway.routing.triage).emails)


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


def send_due(gateway: "Gateway", *, now: datetime | None = None) -> int:
    """Send every notice that is due; returns how many went out."""
    now = now or utcnow()
    with gateway.uow.session_factory() as session:
        due = list(session.scalars(select(Notice.id).where(
            Notice.state.in_(OPEN), or_(Notice.next_attempt_at.is_(None), Notice.next_attempt_at <= now),
        ).order_by(Notice.id)))
    return sum(_send_one(gateway, notice_pk) for notice_pk in due)


def _send_one(gateway: "Gateway", notice_pk: int) -> bool:
    policy: RetryPolicy = gateway.retry_policy
    with gateway.uow.session_factory() as session:
        notice = session.get(Notice, notice_pk)
        assert notice is not None
        notice.state, notice.attempts = "sending", notice.attempts + 1
        session.commit()
        message = message_from_bytes(notice.message, policy=email_policy.default)
        recipients, key, kind, created_at = list(notice.recipients), notice.key, notice.kind, notice.created_at
    try:
        results = gateway.transport.send(message, recipients, name=key.replace(":", "-"))  # type: ignore[arg-type]
        error = None
    except TransientError as exc:
        results, error = {}, str(exc)
    with gateway.uow.session_factory() as session:
        notice = session.get(Notice, notice_pk)
        assert notice is not None
        refused = {r: res for r, res in results.items() if not res.ok}
        if results and not refused:
            notice.state, notice.sent_at, notice.last_error, notice.next_attempt_at = "sent", utcnow(), None, None
            notice.location = gateway.transport.location
        elif results and all(res.permanent for res in refused.values()) and len(refused) == len(recipients):
            notice.state, notice.last_error = "failed", "; ".join(f"{r}: {res.error}" for r, res in refused.items())
        elif results and all(res.permanent for res in refused.values()):
            # Some got it, the others refused for good: sending again would give the first ones a copy twice.
            notice.state, notice.sent_at = "sent", utcnow()
            notice.last_error = "; ".join(f"{r}: {res.error}" for r, res in refused.items())
        else:
            notice.last_error = error or "; ".join(f"{r}: {res.error}" for r, res in refused.items())
            retry_at = policy.next_attempt(notice.attempts, started=created_at, now=utcnow())
            notice.state, notice.next_attempt_at = ("failed", None) if retry_at is None else ("retry", retry_at)
        state = notice.state
        session.commit()
    gateway.metrics.notices.labels(kind, state).inc()
    if state == "failed":
        log.error("notice %s could not be delivered: %s", key, notice.last_error)
    return state == "sent"


def _email(gateway: "Gateway", *, subject: str, recipients: list[str], message_id: str, text: str, html: str | None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = gateway.settings.mail_from
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(utcnow().astimezone(SHANGHAI))
    msg["Message-ID"] = message_id
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def queue_notice(gateway: "Gateway", session: Session, *, key: str, kind: str, recipients: list[str], subject: str, text: str) -> Notice | None:
    """A plain-text notice, made once per key (the caller commits its own changes and then calls send_due)."""
    domain = gateway.settings.mail_domain
    message = _email(gateway, subject=subject, recipients=recipients, message_id=f"<{key.replace(':', '.')}@{domain}>", text=text, html=None)
    return _store(session, key=key, kind=kind, message=message, recipients=recipients)


# ---- 催阅: one reminder per packet not acknowledged in time -------------------------------------------


def chase_unacknowledged(gateway: "Gateway", *, now: datetime | None = None) -> list[str]:
    """Queue a reminder for each delivered packet not acknowledged within the configured hours; returns their packet ids."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=gateway.settings.ack_chase_after_h)
    env = template_environment()
    chased = []
    with gateway.uow.session_factory() as session:
        overdue = session.scalars(select(Packet).where(
            Packet.state.in_(("delivered", "partial")), Packet.acknowledged_at.is_(None),
            Packet.chased_at.is_(None), Packet.delivered_at < cutoff,
        ).order_by(Packet.id)).all()
        for packet in overdue:
            committee = gateway.routing.committee(packet.committee_id)
            recipients = list(session.scalars(select(Delivery.recipient).where(Delivery.packet_pk == packet.id, Delivery.state == "sent")))
            if recipients:
                text = env.get_template("chase.txt.j2").render(
                    committee=committee, packet=packet, sent_on=chinese_date(packet.delivered_at.astimezone(SHANGHAI).date()),
                    url=gateway.ack_links.url(packet.packet_id, packet.revision, packet.created_at),
                )
                message = _email(gateway, subject=f"【催阅】{packet.subject}", recipients=recipients,
                                 message_id=f"<{packet.packet_id}.chase@{gateway.settings.mail_domain}>", text=text, html=None)
                _store(session, key=f"chase:{packet.packet_id}", kind="chase", message=message, recipients=recipients)
            packet.chased_at = now
            session.commit()
            gateway.metrics.chases.inc()
            chased.append(packet.packet_id)
    if chased:
        send_due(gateway)
    return chased


def unacknowledged_overdue(session: Session, chase_after_h: float, *, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(hours=chase_after_h)
    return session.scalar(select(func.count()).select_from(Packet).where(
        Packet.state.in_(("delivered", "partial")), Packet.acknowledged_at.is_(None), Packet.delivered_at < cutoff,
    )) or 0


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


def build_digest(session: Session, gateway: "Gateway", day: date) -> Digest:
    start, end = _day_bounds(day)
    routing = gateway.routing
    reports = session.scalar(select(func.count()).select_from(Report).where(Report.routed_at >= start, Report.routed_at < end)) or 0
    clue_rows = session.scalars(select(Clue).where(Clue.created_at >= start, Clue.created_at < end).order_by(Clue.id)).all()

    def clue(c: Clue) -> DigestClue:
        places = "、".join(str(p["street"]) for p in c.places[:4]) + ("等" if len(c.places) > 4 else "")
        return DigestClue(c.clue_id, routing.committee(c.committee_id).short, type_name(c.clue_type), c.title, c.work_order_count, places)

    # Each packet of the day with its clue and work-order counts, in one query.
    packets = [
        DigestPacket(packet.packet_id, routing.committee(packet.committee_id).short, int(clues), int(orders),
                     _STATE_NAMES.get(packet.state, packet.state), packet.acknowledged_at is not None)
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
    cutoff = utcnow() - timedelta(hours=gateway.settings.ack_chase_after_h)
    unacknowledged = [
        (p.packet_id, routing.committee(p.committee_id).short, chinese_date(p.delivered_at.astimezone(SHANGHAI).date()))
        for p in session.scalars(select(Packet).where(
            Packet.state.in_(("delivered", "partial")), Packet.acknowledged_at.is_(None), Packet.delivered_at < cutoff,
        ).order_by(Packet.id))
    ]
    routed = sum(c.work_order_count for c in clue_rows if not c.triage)
    return Digest(
        day=day, day_text=chinese_date(day), reports=reports, work_orders=routed, packets=packets,
        clues=[clue(c) for c in clue_rows if not c.triage], triage=[clue(c) for c in clue_rows if c.triage],
        failed=failed, unacknowledged=unacknowledged,
    )


_STATE_NAMES = {"pending": "待发送", "delivered": "已送达", "partial": "部分送达", "failed": "发送失败"}


def render_digest(gateway: "Gateway", digest: Digest, recipients: list[str]) -> EmailMessage:
    env = template_environment()
    return _email(
        gateway, subject=digest.subject, recipients=recipients,
        message_id=f"<digest-{digest.day.isoformat()}@{gateway.settings.mail_domain}>",
        text=env.get_template("digest.txt.j2").render(d=digest), html=env.get_template("digest.html.j2").render(d=digest),
    )


def send_digest(gateway: "Gateway", day: date) -> bool:
    """Make the day's digest (once) and send it; False if it was made before."""
    recipients = office_recipients(gateway)
    with gateway.uow.session_factory() as session:
        digest = build_digest(session, gateway, day)
        made = _store(session, key=f"digest:{day.isoformat()}", kind="digest", message=render_digest(gateway, digest, recipients), recipients=recipients)
    send_due(gateway)
    return made is not None
