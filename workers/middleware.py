"""dramatiq's own worker metrics, into the gateway's registry.

dramatiq ships a Prometheus middleware, but it keeps its own global registry,
multiprocess files and HTTP server and expects the `dramatiq` command line;
the gateway's processes export one registry each (docs/operations.md), so this
small middleware counts the same things there.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from gateway.ops.logs import reset_context, set_context
from gateway.metrics import Metrics


class WorkerMetrics(Middleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self._local = threading.local()  # per worker thread: when the message started, its log context

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message[Any]) -> None:
        self._local.started = time.perf_counter()
        self._local.token = set_context(job_id=message.message_id, actor=message.actor_name, outbox_id=message.kwargs.get("outbox_id"))
        self.metrics.worker_in_progress.labels(message.actor_name).inc()

    def after_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        started = getattr(self._local, "started", None)
        token = getattr(self._local, "token", None)
        self._local.started = self._local.token = None
        if token is not None:
            reset_context(token)
        self.metrics.worker_in_progress.labels(message.actor_name).dec()
        if started is not None:
            self.metrics.worker_seconds.labels(message.actor_name).observe(time.perf_counter() - started)
        if exception is None:
            outcome = "done"
        elif message.failed:
            outcome = "dead_lettered"  # retries spent or a permanent error: dramatiq gives up on it (the outbox and sweep do not)
        else:
            outcome = "retried"
        self.metrics.worker_messages.labels(message.actor_name, outcome).inc()

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.Message[Any]) -> None:
        self.metrics.worker_messages.labels(message.actor_name, "skipped").inc()
