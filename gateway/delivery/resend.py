"""`gateway packets resend`: a packet opened again for the recipients it failed for, with the same Message-ID."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from gateway.db.models import Delivery, Packet, utcnow
from gateway.errors import NotFound
from gateway.pipeline.route import message_id
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.queues import DELIVER
from gateway.uow import UnitOfWork


@dataclass(frozen=True)
class Resent:
    packet_id: str
    message_id: str
    recipients: list[str]  # opened again (or added): empty when every configured recipient has it


def resend_packet(uow: UnitOfWork, packet_id: str, *, routing: RoutingConfig, mail_domain: str, everyone: bool = False) -> Resent:
    """Open again the failed deliveries (or, with `everyone`, the sent ones too) and add recipients newly configured for the committee."""
    with uow:
        packet = uow.session.scalar(select(Packet).where(Packet.packet_id == packet_id))
        if packet is None:
            raise NotFound(f"no packet {packet_id!r}; `gateway packets list` shows them")
        mid = message_id(packet.packet_id, packet.revision, mail_domain)
        existing = {d.recipient: d for d in uow.session.scalars(select(Delivery).where(Delivery.packet_pk == packet.id))}
        reopened = []
        for recipient in routing.committee(packet.committee_id).emails:
            d = existing.get(recipient)
            if d is None:
                uow.session.add(Delivery(packet_pk=packet.id, recipient=recipient, message_id=mid))
                reopened.append(recipient)
            elif d.state == "failed" or (everyone and d.state == "sent"):
                d.state, d.next_attempt_at, d.last_error = "retry", None, None
                reopened.append(recipient)
        if reopened:
            packet.state = "pending"
            uow.emit(DELIVER, f"{packet.packet_id}:resend:{utcnow().isoformat()}", packet_pk=packet.id)
            uow.commit()
        return Resent(packet.packet_id, mid, reopened)
