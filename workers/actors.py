"""The pipeline's actors. They translate a message into a handler call and nothing more.

Actors are declared against the broker that bootstrap() made (no broker at
import time). Each message carries its outbox row id; the handler marks that
row done in the same transaction as its work, which makes redelivery harmless.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq import Broker

from gateway.db.models import utcnow
from gateway.delivery.send import handle_deliver_packet
from gateway.errors import PermanentError
from gateway.intake.receive import NORMALIZE
from gateway.pipeline.normalize import ROUTE, handle_normalize_report
from gateway.pipeline.route import DELIVER, handle_route_report

if TYPE_CHECKING:
    from gateway.bootstrap import Gateway

_bound: "list[Gateway]" = []  # the newest is current; a closed gateway gives the binding back to the one before it


def bind(gateway: "Gateway") -> None:
    """Give the actors of this process their gateway (settings, database, adapters)."""
    _bound.append(gateway)


def unbind(gateway: "Gateway") -> None:
    """A gateway closing: the actors no longer reach it (a process that ran several, as the tests do, keeps the others)."""
    if gateway in _bound:
        _bound.remove(gateway)


def _current() -> "Gateway":
    if not _bound:
        raise RuntimeError("actors are not bound: call gateway.bootstrap.bootstrap() in this process first")
    return _bound[-1]


def normalize_report(outbox_id: int, report_pk: int, seq: int = 0) -> None:
    gw = _current()
    summary = handle_normalize_report(
        report_pk, gw.uow(), normalizer=gw.normalizer, keep_raw=gw.settings.keep_raw_payload, seq=seq, outbox_id=outbox_id
    )
    gw.metrics.stage_done("normalize")
    gw.metrics.normalized(summary)


def route_report(outbox_id: int, report_pk: int) -> None:
    gw = _current()
    summary = handle_route_report(report_pk, gw.uow(), routing=gw.routing, mail_domain=gw.settings.mail_domain,
                                  min_confidence=gw.settings.category_min_confidence, outbox_id=outbox_id,
                                  vocabulary=gw.topic_vocabulary)
    gw.metrics.stage_done("route")
    gw.metrics.routed(summary)


def deliver_packet(outbox_id: int, packet_pk: int) -> None:
    gw = _current()
    outcome = handle_deliver_packet(
        packet_pk, gw.uow, transport=gw.transport, routing=gw.routing, sender=gw.settings.mail_from, outbox_id=outbox_id,
        policy=gw.retry_policy, links=gw.ack_links,
    )
    gw.metrics.stage_done("deliver")
    gw.metrics.deliveries(outcome)
    if outcome.report_done is not None:
        gw.metrics.report_delivered(outcome.report_done)
    if outcome.attempted and outcome.retry_at is not None:
        # The next try on the delivery schedule. Only after a real attempt, so that a re-dispatch by the
        # sweep (which finds nothing due) does not multiply the waiting messages; if this delayed
        # message is lost, the sweep's re-dispatch finds the delivery due and sends it.
        delay_ms = max(0, int((outcome.retry_at - utcnow()).total_seconds() * 1000))
        gw.actors[DELIVER].send_with_options(kwargs={"outbox_id": outbox_id, "packet_pk": packet_pk}, delay=delay_ms)


STAGES = {NORMALIZE: normalize_report, ROUTE: route_report, DELIVER: deliver_packet}


def declare(broker: Broker, *, queue_prefix: str, min_backoff_ms: int, max_backoff_ms: int, max_retries: int) -> dict[str, dramatiq.Actor[Any, Any]]:
    return {
        name: dramatiq.actor(
            fn,
            broker=broker,
            actor_name=name,
            queue_name=f"{queue_prefix}.{name}",
            max_retries=max_retries,
            min_backoff=min_backoff_ms,
            max_backoff=max_backoff_ms,
            throws=(PermanentError,),
        )
        for name, fn in STAGES.items()
    }
