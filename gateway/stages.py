"""The pipeline's three steps as the workers call them: a message's ids in, one handler with its parts, its metrics.

`gateway.bootstrap` makes one `Stages` per gateway with the parts it chose;
`workers.actors` declares a dramatiq actor for each of `handlers()`, so an actor
holds its gateway's parts by closure, not through a module global.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.db.models import Report
from gateway.delivery.acknowledge import AckLinks
from gateway.delivery.mail_log import RetryPolicy
from gateway.delivery.send import handle_deliver_packet
from gateway.metrics import Metrics
from gateway.pipeline.normalize import Normalizer, handle_normalize_report
from gateway.pipeline.route import handle_route_report
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.pipeline.stuck import is_transient, record_failure
from gateway.ports import MailTransport
from gateway.queues import DELIVER, NORMALIZE, ROUTE, URGENT
from gateway.settings import Settings
from gateway.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


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

    @property
    def assign_early(self) -> bool:
        if self.settings.assign_early is not None:
            return self.settings.assign_early
        return self.uow.engine.dialect.name == "postgresql"

    def normalize(self, outbox_id: int, report_pk: int, seq: int = 0) -> None:
        try:
            summary = handle_normalize_report(report_pk, self.uow(), normalizer=self.normalizer, keep_raw=self.settings.keep_raw_payload,
                                              seq=seq, outbox_id=outbox_id, assign=self.assign_early)
        except Exception as exc:
            if is_transient(exc):
                raise  # the queue retries it as long as it takes
            reason = f"normalization failed (chunk {seq}): {type(exc).__name__}: {exc}"
            report = record_failure(self.uow(), report_pk, reason, attempts=self.settings.poison_after)
            if report is None:
                raise  # retried; set aside at the last attempt
            self._set_aside(report, reason, "normalize")
            with self.uow() as uow:
                uow.mark_done(outbox_id)
                # The reports after it must not wait for it: a drain goes on without it.
                uow.emit(ROUTE, f"after-stuck:{report_pk}:{report.failures}", report_pk=report_pk)
                uow.commit()
            return
        self.metrics.stage_done("normalize")
        self.metrics.normalized(summary)

    def route(self, outbox_id: int, report_pk: int) -> None:
        summaries = handle_route_report(report_pk, self.uow(), routing=self.routing, mail_domain=self.settings.mail_domain,
                                        min_confidence=self.settings.category_min_confidence, outbox_id=outbox_id, vocabulary=self.vocabulary,
                                        on_set_aside=lambda report, reason: self._set_aside(report, reason, "route"),
                                        poison_after=self.settings.poison_after)
        self.metrics.stage_done("route")
        for summary in summaries:
            self.metrics.routed(summary)

    def _set_aside(self, report: Report, reason: str, stage: str) -> None:
        self.metrics.set_aside.labels(stage).inc()
        log.error("report %s set aside after %d failed attempts: %s (gateway reports list --stuck; gateway reports retry %s)",
                  report.report_id, report.failures, reason, report.report_id, extra={"report_id": report.report_id})

    def deliver(self, outbox_id: int, packet_pk: int) -> None:
        outcome = handle_deliver_packet(packet_pk, self.uow, transport=self.transport, routing=self.routing, sender=self.settings.mail_from,
                                        outbox_id=outbox_id, policy=self.retry_policy, links=self.ack_links)
        self.metrics.stage_done("deliver")
        self.metrics.deliveries(outcome)
        if outcome.report_done is not None:
            self.metrics.report_delivered(outcome.report_done)

    def handlers(self) -> dict[str, Callable[..., Any]]:
        handlers = {NORMALIZE: self.normalize, ROUTE: self.route, DELIVER: self.deliver}
        return {**handlers, **{URGENT[stage]: handler for stage, handler in handlers.items()}}
