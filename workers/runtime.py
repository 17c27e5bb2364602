"""Running workers: in this process (embedded default) or as `gateway worker`."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dramatiq


class WorkerRuntime:
    """A dramatiq Worker consuming the queues of the given actors from this process."""

    def __init__(self, broker: dramatiq.Broker, actors: Iterable[dramatiq.Actor[Any, Any]], *, threads: int) -> None:
        self.worker = dramatiq.Worker(broker, queues={actor.queue_name for actor in actors}, worker_threads=threads, worker_timeout=100)

    def start(self) -> "WorkerRuntime":
        self.worker.start()
        return self

    def stop(self) -> None:
        self.worker.stop(timeout=10_000)
