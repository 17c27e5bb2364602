"""The pipeline's three steps as the workers call them: a message's ids in, one handler with its parts, its metrics.

`gateway.bootstrap` makes one `Stages` per gateway with the parts it chose;
`workers.actors` declares a dramatiq actor for each of `handlers()`, so an actor
holds its gateway's parts by closure, not through a module global.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.delivery.acknowledge import AckLinks
from gateway.delivery.mail_log import RetryPolicy
from gateway.delivery.send import handle_deliver_packet
from gateway.metrics import Metrics
from gateway.pipeline.normalize import Normalizer, handle_normalize_report
from gateway.pipeline.route import handle_route_report
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.ports import MailTransport
from gateway.queues import DELIVER, NORMALIZE, ROUTE
from gateway.settings import Settings
from gateway.uow import UnitOfWorkFactory


@dataclass
class Stages:
    uow: UnitOfWorkFactory
    settings: Settings
    routing: RoutingConfig
    normalizer: Normalizer
    vocabulary: list[str]  # words the topic segmenter keeps whole
    transport: MailTransport
    retry_policy: RetryPolicy
    ack_links: AckLinks
    metrics: Metrics

    def normalize(self, outbox_id: int, report_pk: int, seq: int = 0) -> None:
        summary = handle_normalize_report(report_pk, self.uow(), normalizer=self.normalizer, keep_raw=self.settings.keep_raw_payload,
                                          seq=seq, outbox_id=outbox_id)
        self.metrics.stage_done("normalize")
        self.metrics.normalized(summary)

    def route(self, outbox_id: int, report_pk: int) -> None:
        summary = handle_route_report(report_pk, self.uow(), routing=self.routing, mail_domain=self.settings.mail_domain,
                                      min_confidence=self.settings.category_min_confidence, outbox_id=outbox_id, vocabulary=self.vocabulary)
        self.metrics.stage_done("route")
        self.metrics.routed(summary)

    def deliver(self, outbox_id: int, packet_pk: int) -> None:
        outcome = handle_deliver_packet(packet_pk, self.uow, transport=self.transport, routing=self.routing, sender=self.settings.mail_from,
                                        outbox_id=outbox_id, policy=self.retry_policy, links=self.ack_links)
        self.metrics.stage_done("deliver")
        self.metrics.deliveries(outcome)
        if outcome.report_done is not None:
            self.metrics.report_delivered(outcome.report_done)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        return {NORMALIZE: self.normalize, ROUTE: self.route, DELIVER: self.deliver}
