"""Running workers: in this process (embedded default) or as `gateway worker`."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import dramatiq

from gateway.queues import URGENT

URGENT_THREADS = 1


def _second_worker_middleware(record: logging.LogRecord) -> bool:
    return not (record.getMessage().startswith("You're adding a middleware of the same type twice") and "_WorkerMiddleware" in record.getMessage())


class WorkerRuntime:
    """Dramatiq workers consuming the queues of the given actors from this process.

    Two of them: one with `threads` threads for the pipeline's ordinary queues, and one with a thread of its own for
    the urgent queues, so that an urgent report never waits for a thread busy with a chunk of a big monthly report
    (a priority only orders the messages a worker has already pulled; it frees no thread).
    """

    def __init__(self, broker: dramatiq.Broker, actors: Iterable[dramatiq.Actor[Any, Any]], *, threads: int) -> None:
        actors = list(actors)
        urgent = {actor.queue_name for actor in actors if actor.actor_name in URGENT.values()}
        ordinary = {actor.queue_name for actor in actors} - urgent
        self.workers = [dramatiq.Worker(broker, queues=queues, worker_threads=n, worker_timeout=100)
                        for queues, n in ((ordinary, threads), (urgent, URGENT_THREADS)) if queues]
        # Each Worker adds a middleware that starts consumers for queues declared later, and the broker warns of
        # the second one ("may have unexpected results"); each Worker only consumes its own queues, so say nothing.
        broker.logger.addFilter(_second_worker_middleware)

    def start(self) -> "WorkerRuntime":
        for worker in self.workers:
            worker.start()
        return self

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop(timeout=10_000)
