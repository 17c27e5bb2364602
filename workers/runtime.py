"""Running workers: in this process (embedded default) or as `gateway worker`."""
from __future__ import annotations

import dramatiq

from gateway.bootstrap import Gateway


class WorkerRuntime:
    """A dramatiq Worker consuming the gateway's queues from this process."""

    def __init__(self, gateway: Gateway, *, threads: int | None = None) -> None:
        self.gateway = gateway
        self.worker = dramatiq.Worker(
            gateway.broker,
            queues={actor.queue_name for actor in gateway.actors.values()},
            worker_threads=threads or gateway.settings.worker_threads,
            worker_timeout=100,
        )

    def start(self) -> "WorkerRuntime":
        self.worker.start()
        return self

    def stop(self) -> None:
        self.worker.stop(timeout=10_000)
