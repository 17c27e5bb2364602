"""Ports: what the core needs from the outside world, defined here and implemented outside.

The core (intake, pipeline, delivery, loop, ops) is written against these and
never imports an adapter. `connectors/` implements the mail transport and the
command-center client, `workers/` the broker emit; `gateway.bootstrap` chooses
the implementations from the settings and hands them over.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Protocol

from gateway.db.models import utcnow

Clock = Callable[[], datetime]
"""Now, in UTC. The system clock is `gateway.db.models.utcnow`; tests hand in their own."""
system_clock: Clock = utcnow

Queued = tuple[int, str, dict[str, Any]]
"""A committed outbox message: its row id, the stage (`gateway.queues`) and the payload."""


class Emitter(Protocol):
    """Broker emit: hands committed outbox messages to the queue (implemented by workers.dispatch.Dispatcher)."""

    def __call__(self, messages: list[Queued]) -> int:
        """Send now; returns how many the broker took (the rest are left for the sweep)."""

    def later(self, message: Queued, delay_ms: int) -> None:
        """Send once more after a delay (the next try of a delivery); a lost one is found again by the sweep."""


@dataclass(frozen=True)
class RecipientResult:
    """What became of one recipient of one email."""

    ok: bool
    permanent: bool = False
    error: str | None = None


class MailTransport:
    """Mail out: deliver one message to some recipients and say what became of each (connectors.mail)."""

    location: str = ""

    def send(self, message: EmailMessage, recipients: list[str], *, name: str) -> dict[str, RecipientResult]:
        """Per recipient, what happened; a server that cannot be reached raises TransientError."""
        raise NotImplementedError

    def check(self, timeout: float) -> str:
        """Can mail go out now? Says how; raises saying why not (readiness)."""
        return self.location


@dataclass(frozen=True)
class Page:
    """One page of the command center's pull API (INTEGRATION.md section 2)."""

    items: list[Any]
    next_cursor: str | None


class CommandCenter(Protocol):
    """The command center's API, signed (connectors.command_center): pages in, the monthly feedback out.

    Retries are the client's: a call returns or raises PermanentError (a refusal,
    retrying will not help) or TransientError (still failing after its attempts).
    `on_retry` is called with each failed attempt's reason before the next.
    """

    attempts: int

    async def __aenter__(self) -> "CommandCenter": ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def fetch_page(self, cursor: str | None, limit: int) -> Page: ...

    async def push_feedback(self, body: bytes, idempotency_key: str, *, on_retry: Callable[[str], None] | None = None) -> int: ...
