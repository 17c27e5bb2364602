"""Unit of work: one transaction, rolled back unless committed; queue messages sent after commit."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.models import OutboxMessage, utcnow

Dispatch = Callable[[list[int]], Any]
_EMITTED = "gateway.outbox"


def emit(session: Session, actor: str, dedup_key: str, **payload: Any) -> None:
    """Queue `actor(**payload)` once per (actor, dedup_key), to be sent after this session commits."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.actor == actor, OutboxMessage.dedup_key == dedup_key))
    if exists is None:
        message = OutboxMessage(actor=actor, dedup_key=dedup_key, payload=payload)
        session.add(message)
        session.info.setdefault(_EMITTED, []).append(message)


def commit_and_dispatch(session: Session, dispatch: Dispatch | None) -> None:
    """Commit, then hand the messages emitted in this transaction to the broker."""
    session.flush()
    emitted: list[OutboxMessage] = session.info.pop(_EMITTED, [])
    ids = [m.id for m in emitted]
    session.commit()
    if ids and dispatch is not None:
        dispatch(ids)


class UnitOfWork:
    """`with uow: ...; uow.commit()` — messages emitted inside reach the broker only after the commit."""

    def __init__(self, session_factory: sessionmaker[Session], dispatch: Dispatch | None = None) -> None:
        self._session_factory = session_factory
        self._dispatch = dispatch
        self.session: Session

    def __enter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.info.pop(_EMITTED, None)
        self.session.rollback()
        self.session.close()

    def emit(self, actor: str, dedup_key: str, **payload: Any) -> None:
        emit(self.session, actor, dedup_key, **payload)

    def mark_done(self, outbox_id: int | None) -> None:
        if outbox_id is not None:
            message = self.session.get(OutboxMessage, outbox_id)
            if message is not None and message.done_at is None:
                message.done_at = utcnow()

    def commit(self) -> None:
        commit_and_dispatch(self.session, self._dispatch)


class UnitOfWorkFactory:
    def __init__(self, engine: Engine, dispatch: Dispatch | None = None) -> None:
        self.engine = engine
        self.session_factory = sessionmaker(engine, expire_on_commit=False)
        self.dispatch = dispatch

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.dispatch)
