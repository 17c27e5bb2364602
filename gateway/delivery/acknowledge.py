"""Acknowledgement of a packet (确认收到): a signed, expiring link in the email, and the one reminder (催阅).

The token names the packet and revision and when it stops working, signed with
a secret kept in the database (`gateway_meta`), so every process of one
deployment makes and checks the same tokens and nothing needs configuring.
The expiry is counted from the packet's creation, so an email re-sent after a
crash carries the very same link.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from gateway.db.models import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class TokenError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "forged" or "expired"


_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Acknowledged:
    packet_id: str
    revision: int
    expires_at: datetime


@dataclass(frozen=True)
class AckLinks:
    base_url: str
    secret: bytes
    valid: timedelta

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self.secret, b"ack\x00" + payload, hashlib.sha256).digest())

    def token(self, packet_id: str, revision: int, created_at: datetime) -> str:
        expires = int((created_at + self.valid).timestamp())
        payload = f"{packet_id}:{revision}:{expires}".encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def url(self, packet_id: str, revision: int, created_at: datetime) -> str:
        return f"{self.base_url.rstrip('/')}/ack/{self.token(packet_id, revision, created_at)}"

    def expires_at(self, created_at: datetime) -> datetime:
        return created_at + self.valid

    def verify(self, token: str, *, now: datetime | None = None) -> Acknowledged:
        if not _TOKEN.fullmatch(token):  # anything else (non-ASCII, odd characters) is no link of ours, and never a crash
            raise TokenError("forged", "this link is not one the gateway made")
        try:
            payload_text, signature = token.split(".")
            payload = _unb64(payload_text)
        except ValueError:
            raise TokenError("forged", "this link is not one the gateway made") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise TokenError("forged", "this link is not one the gateway made")
        packet_id, revision, expires = payload.decode().rsplit(":", 2)
        expires_at = datetime.fromtimestamp(int(expires), tz=UTC)
        if (now or utcnow()) > expires_at:
            raise TokenError("expired", "this link has expired")
        return Acknowledged(packet_id, int(revision), expires_at)


@dataclass(frozen=True)
class AckResult:
    packet_id: str
    subject: str
    committee_id: str
    acknowledged_at: datetime | None
    first_time: bool


def packet_for_token(session: "Session", links: AckLinks, token: str, *, confirm: bool) -> AckResult:
    """Check the token; with `confirm`, record the acknowledgement (the first one counts, later ones change nothing)."""
    ack = links.verify(token)
    result = acknowledge_packet(session, ack.packet_id, confirm=confirm, by=None)
    if result.first_time:
        session.commit()
    return result


def acknowledge_packet(session: "Session", packet_id: str, *, confirm: bool, by: str | None) -> AckResult:
    """The acknowledgement (确认收到 / 签收) itself, whether by the email's link (by None) or by a user of the office's pages.

    The first one counts and is written to the audit log; later ones change nothing. The caller commits.
    """
    from sqlalchemy import select

    from gateway.db.models import AuditEntry, Packet

    packet = session.scalar(select(Packet).where(Packet.packet_id == packet_id).with_for_update(key_share=True))
    if packet is None:  # signed by us but gone: treat like a forged link, say nothing more
        raise TokenError("forged", "this link is not one the gateway made")
    first = confirm and packet.acknowledged_at is None
    if first:
        packet.acknowledged_at = utcnow()
        session.add(AuditEntry(at=packet.acknowledged_at, username=by, action="acknowledge", target=packet.packet_id,
                               detail={"committee_id": packet.committee_id, "via": "link" if by is None else "office"}))
    return AckResult(packet.packet_id, packet.subject, packet.committee_id, packet.acknowledged_at, first)
