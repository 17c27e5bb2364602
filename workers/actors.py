"""The pipeline's actors. They translate a message into a handler call and nothing more.

Actors are declared against the broker that bootstrap() made (no broker at
import time), one per stage of `gateway.stages.Stages`, each holding its
handler by closure. Each message carries its outbox row id; the handler marks
that row done in the same transaction as its work, which makes redelivery harmless.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dramatiq
from dramatiq import Broker

from gateway.errors import PermanentError
from gateway.queues import URGENT, queue_name


def declare(broker: Broker, handlers: Mapping[str, Callable[..., Any]], *, queue_prefix: str, min_backoff_ms: int, max_backoff_ms: int,
            max_retries: int) -> dict[str, dramatiq.Actor[Any, Any]]:
    """One actor per stage, named as the stage (the outbox's `actor` column), on the queue `<prefix>.<stage>`."""
    return {
        name: dramatiq.actor(
            handler,
            broker=broker,
            actor_name=name,
            queue_name=queue_name(queue_prefix, name),
            max_retries=max_retries,
            min_backoff=min_backoff_ms,
            max_backoff=max_backoff_ms,
            throws=(PermanentError,),
            # dramatiq hands a worker's threads the messages of lower numbers first: urgent steps before the others.
            priority=0 if name in URGENT.values() else 10,
        )
        for name, handler in handlers.items()
    }
