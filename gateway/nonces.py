"""The replay store: v2 nonces and state-changing v1 signatures seen within the window.

One store for every API process: the database's `seen_signatures` table (its
primary key makes a second claim fail, whichever process makes it). A report's
push remembers its signature in the same transaction as the report
(`intake.receive.store_batch`); every other signed request claims it here first.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.models import SeenSignature, utcnow
from gateway.errors import Unauthorized

REPLAY = "this signature was already used (replay); sign every request afresh"


def claim(sessions: sessionmaker[Session], replay_key: str) -> None:
    """Remember `replay_key`, or Unauthorized when it was seen before."""
    with sessions() as session:
        session.add(SeenSignature(signature=replay_key, seen_at=utcnow()))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            raise Unauthorized(REPLAY) from None


def forget(sessions: sessionmaker[Session], *, older_than: timedelta) -> int:
    """Keys too old to be accepted anyway; returns how many were forgotten."""
    with sessions() as session:
        forgotten = session.execute(delete(SeenSignature).where(SeenSignature.seen_at < utcnow() - older_than)).rowcount
        session.commit()
    return forgotten or 0
