"""Engine creation: SQLite (WAL, one writer at a time) by default, PostgreSQL by URL."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session


def normalize_url(url: str) -> str:
    # "postgresql://" means psycopg 3 here: it is the driver we install.
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def transaction_lock(session: Session, key: int, *, wait: bool = True) -> bool:
    """One transaction at a time holds `key`, to its end: PostgreSQL's advisory lock; SQLite's one writer already is.

    `wait=False`: True if taken, False at once if another transaction holds it.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def dump_json(value: Any) -> str:
    """The JSON columns' text: orjson (a month's chunks of records are written and read back as JSON: json's encoder was
    0.78 s of a 100,000-record file's 6.7 s intake under cProfile), and the standard library for what orjson does not
    write (an integer past 64 bits). Unlike json, orjson also writes a datetime (as ISO 8601) instead of refusing it."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def load_json(text: str | bytes) -> Any:
    """A JSON column's value read back; the standard library for what orjson does not read (NaN, a huge integer)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    kwargs = {"json_serializer": dump_json, "json_deserializer": load_json, **kwargs}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that every transaction is
        # BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing
        # with "database is locked" when a read transaction upgrades.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before a receipt says so (group commit keeps it cheap).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("gateway_readonly") else "BEGIN IMMEDIATE")

    return engine
