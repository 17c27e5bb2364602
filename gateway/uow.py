"""Unit of work: one transaction, rolled back unless committed; queue messages sent after commit.

Outbox rows are written with the state they refer to and handed to the
dispatcher after the commit. They are born marked as dispatched: the dispatcher
clears the mark of any it could not send, the sweep sends those again, and at
start everything not done is sent again whatever its mark (a crash between
commit and send).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.models import OutboxMessage, utcnow
from gateway.db.rows import allocate_ids, insert_rows
from gateway.ports import Emitter, Queued

Dispatch = Emitter
_EMITTED = "gateway.outbox"


def emit_many(session: Session, actor: str, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Queue `actor(**payload)` for each (dedup_key, payload) whose key is new; sent after this session commits."""
    rows = [{"actor": actor, "dedup_key": key, "payload": payload, "dispatched_at": utcnow(), "dispatch_count": 1} for key, payload in items]
    if rows:
        table = OutboxMessage.__table__
        ids = session.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
        session.info.setdefault(_EMITTED, []).extend((pk, actor, row["payload"]) for pk, row in zip(ids, rows))


def outbox_rows(connection: Connection, messages: Sequence[tuple[str, str, dict[str, Any]]], *, now: datetime | None = None) -> list[Queued]:
    """Outbox rows for (actor, dedup_key, payload) messages of any actors in one executemany (ids taken first: gateway.db.rows).

    Returns them as queued messages, to hand to the broker after the commit (record_emitted, or the caller's own dispatch).
    """
    if not messages:
        return []
    table = OutboxMessage.__table__
    ids = allocate_ids(connection, table, len(messages))
    stamp = now or utcnow()
    insert_rows(connection, table, [{"id": pk, "actor": actor, "dedup_key": key, "payload": payload, "created_at": stamp,
                                     "dispatched_at": stamp, "dispatch_count": 1} for pk, (actor, key, payload) in zip(ids, messages)])
    return [(pk, actor, payload) for pk, (actor, _, payload) in zip(ids, messages)]


def record_emitted(session: Session, queued: Sequence[Queued]) -> None:
    """Messages already in the outbox of this session's transaction, sent when it commits (commit_and_dispatch)."""
    if queued:
        session.info.setdefault(_EMITTED, []).extend(queued)


def emit(session: Session, actor: str, dedup_key: str, **payload: Any) -> None:
    """Queue `actor(**payload)` once per (actor, dedup_key), to be sent after this session commits."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.actor == actor, OutboxMessage.dedup_key == dedup_key))
    if exists is None:
        emit_many(session, actor, [(dedup_key, payload)])


def commit_and_dispatch(session: Session, dispatch: Dispatch | None) -> None:
    """Commit, then hand the messages emitted in this transaction to the broker."""
    emitted: list[Queued] = session.info.pop(_EMITTED, [])
    session.commit()
    if emitted and dispatch is not None:
        dispatch(emitted)


def discard_emitted(session: Session) -> None:
    session.info.pop(_EMITTED, None)


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
        discard_emitted(self.session)
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
        # Reads take no write lock on SQLite (see gateway.db.engine).
        self.read_session = sessionmaker(engine.execution_options(gateway_readonly=True), expire_on_commit=False)
        self.dispatch = dispatch

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.dispatch)
