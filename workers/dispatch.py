"""Outbox dispatch: committed messages to the broker, and the recovery sweep (the core's `Emitter` port)."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dramatiq
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.models import OutboxMessage, utcnow
from gateway.ports import Queued

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, session_factory: sessionmaker[Session], actors: Mapping[str, dramatiq.Actor[Any, Any]]) -> None:
        self._sessions = session_factory
        self._actors = actors

    def __call__(self, messages: list[Queued]) -> int:
        """Send committed outbox messages; those the broker did not take are left for the sweep."""
        sent = 0
        for position, (outbox_id, actor_name, payload) in enumerate(messages):
            actor = self._actors.get(actor_name)
            if actor is None:
                log.error("outbox %s names unknown actor %r; left for an operator", outbox_id, actor_name)
                continue
            try:
                actor.send_with_options(kwargs={"outbox_id": outbox_id, **payload})
            except Exception as exc:  # broker down: clear the mark so the sweep sends them soon
                log.warning("could not send outbox %s (%s) to the broker: %s; the sweep will send it", outbox_id, actor_name, exc)
                self._unmark([m[0] for m in messages[position:]])
                break
            sent += 1
        return sent

    def later(self, message: Queued, delay_ms: int) -> None:
        """The same message once more after `delay_ms` (a delivery's next try); if it is lost, the sweep finds the step again."""
        outbox_id, actor_name, payload = message
        try:
            self._actors[actor_name].send_with_options(kwargs={"outbox_id": outbox_id, **payload}, delay=delay_ms)
        except Exception as exc:
            log.warning("could not schedule outbox %s (%s) in %d ms: %s; the sweep will send it", outbox_id, actor_name, delay_ms, exc)

    def _unmark(self, ids: list[int]) -> None:
        try:
            with self._sessions() as session:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(dispatched_at=None))
                session.commit()
        except Exception:  # the database may be down too; recovery at start still finds them
            log.exception("could not clear the dispatch mark of %d outbox message(s)", len(ids))

    def dispatch_ids(self, outbox_ids: list[int]) -> int:
        with self._sessions() as session:
            rows = session.execute(
                select(OutboxMessage.id, OutboxMessage.actor, OutboxMessage.payload)
                .where(OutboxMessage.id.in_(outbox_ids), OutboxMessage.done_at.is_(None)).order_by(OutboxMessage.id)
            ).all()
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_([r[0] for r in rows]))
                .values(dispatched_at=utcnow(), dispatch_count=OutboxMessage.dispatch_count + 1)
            )
            session.commit()
        return self([(r[0], r[1], r[2]) for r in rows])

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
        return self.dispatch_ids(ids) if ids else 0

    def sweep(self, stalled_after_s: float) -> int:
        ids = self.pending(stalled_after_s=stalled_after_s)
        return self.dispatch_ids(ids) if ids else 0
