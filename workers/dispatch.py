"""Outbox dispatch: committed messages to the broker, and the recovery sweep."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dramatiq
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], actors: Mapping[str, dramatiq.Actor[Any, Any]]) -> None:
        self._sessions = session_factory
        self._actors = actors

    def __call__(self, outbox_ids: list[int]) -> int:
        """Send these outbox messages; a broker failure leaves them for the sweep."""
        sent = 0
        with self._sessions() as session:
            messages = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.done_at.is_(None))).all()
            for message in messages:
                actor = self._actors.get(message.actor)
                if actor is None:
                    log.error("outbox %s names unknown actor %r; left for an operator", message.id, message.actor)
                    continue
                try:
                    actor.send_with_options(kwargs={"outbox_id": message.id, **message.payload})
                except Exception as exc:  # broker down: the sweep will send it again
                    log.warning("could not send outbox %s (%s) to the broker: %s; it stays queued", message.id, message.actor, exc)
                    break
                message.dispatched_at = utcnow()
                message.dispatch_count += 1
                sent += 1
            session.commit()
        return sent

    def pending(self, *, stalled_after_s: float | None) -> list[int]:
        """Messages not done: never dispatched, or (with stalled_after_s) dispatched too long ago."""
        with self._sessions() as session:
            query = select(OutboxMessage.id).where(OutboxMessage.done_at.is_(None)).order_by(OutboxMessage.id)
            if stalled_after_s is not None:
                cutoff = utcnow() - timedelta(seconds=stalled_after_s)
                query = query.where(or_(OutboxMessage.dispatched_at.is_(None), OutboxMessage.dispatched_at < cutoff))
            return list(session.scalars(query))

    def recover(self) -> int:
        """At start: everything accepted but not finished goes to the queue again."""
        ids = self.pending(stalled_after_s=None)
        if ids:
            log.info("re-dispatching %d unfinished pipeline step(s)", len(ids))
        return self(ids) if ids else 0

    def sweep(self, stalled_after_s: float) -> int:
        ids = self.pending(stalled_after_s=stalled_after_s)
        return self(ids) if ids else 0
