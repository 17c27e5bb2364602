"""The bookkeeping every email of the gateway shares: packets (deliveries) and notices alike.

An email is recorded before it is sent (`sending`) and after (`sent`, `retry`
with the time of the next try, or `failed`), so that a crash between the two is
found and the email goes out again with the same Message-ID. When to try again
is one schedule (`RetryPolicy`); what a recipient's answer means is one rule
(`settle`); which unacknowledged packets are overdue is one query.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.models import Packet
from gateway.metrics import Metrics
from gateway.periods import SHANGHAI
from gateway.ports import Clock, MailTransport, RecipientResult, system_clock

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
OPEN_STATES = ("pending", "sending", "retry")  # an email (to one recipient, or a notice) still to go out
DELIVERED_STATES = ("delivered", "partial")  # a packet that reached at least one recipient
PACKET_STATE_NAMES = {"pending": "待发送", "delivered": "已送达", "partial": "部分送达", "failed": "发送失败"}


@dataclass(frozen=True)
class RetryPolicy:
    """When to try an email again: at once, then after each wait in turn (the last repeats), until the horizon."""

    waits_s: tuple[int, ...] = (60, 300, 900, 1800)
    horizon: timedelta = timedelta(hours=48)

    def wait_after(self, attempts: int) -> timedelta:
        return timedelta(seconds=self.waits_s[min(max(attempts, 1), len(self.waits_s)) - 1])

    def next_attempt(self, attempts: int, *, started: datetime, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed ones, or None when that would pass the horizon (give up)."""
        retry_at = now + self.wait_after(attempts)
        return None if retry_at > started + self.horizon else retry_at


@dataclass(frozen=True)
class Settled:
    state: str  # "sent", "retry" or "failed"
    error: str | None
    next_attempt_at: datetime | None


def settle(result: RecipientResult | None, error: str | None, *, attempts: int, started: datetime, now: datetime,
           policy: RetryPolicy) -> Settled:
    """What one recipient's answer (or the transport's error) makes of an email after its `attempts`-th try."""
    if result is not None and result.ok:
        return Settled("sent", None, None)
    if result is not None and result.permanent:
        return Settled("failed", result.error, None)
    reason = (result.error if result else None) or error or "not attempted"
    retry_at = policy.next_attempt(attempts, started=started, now=now)
    if retry_at is None:
        return Settled("failed", f"gave up after {attempts} attempt(s) in {policy.horizon.total_seconds() / 3600:g} h: {reason}", None)
    return Settled("retry", reason, retry_at)


def one_line(text: str) -> str:
    """A header's text: line breaks, tabs and other control characters folded to one space (a subject made of stored text)."""
    return " ".join(_CONTROL.sub(" ", text).split())


def unacknowledged_packets(cutoff: datetime) -> Select[tuple[Packet]]:
    """Packets delivered before `cutoff` that nobody has acknowledged (the reminder, the digest and the gauge)."""
    return select(Packet).where(Packet.state.in_(DELIVERED_STATES), Packet.acknowledged_at.is_(None), Packet.delivered_at < cutoff)


@dataclass
class Mailer:
    """Everything an email needs: where it goes out, the schedule of retries, the sender and the database that records it."""

    sessions: sessionmaker[Session]
    transport: MailTransport
    policy: RetryPolicy
    sender: str
    domain: str  # of every Message-ID
    metrics: Metrics
    clock: Clock = system_clock

    def compose(self, *, subject: str, recipients: list[str], message_id: str, text: str, html: str | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = one_line(subject)
        msg["From"] = self.sender
        msg["To"] = ", ".join(recipients)
        msg["Date"] = format_datetime(self.clock().astimezone(SHANGHAI))
        msg["Message-ID"] = message_id
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
        return msg
