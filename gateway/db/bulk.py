"""Many rows into one table at once: PostgreSQL's COPY where it runs, a multi-row INSERT elsewhere.

Why not SQLAlchemy's multi-row INSERT on PostgreSQL too: it renders a statement of a thousand rows' placeholders,
and psycopg parses every statement longer than 4,096 characters or with more than 50 parameters anew
(its cache takes only short ones): profiled on two workers normalizing a 100,000-record report, that parsing was
31 % of their time. COPY sends the rows as data, with nothing to parse.

The rows go through the same column defaults and type conversions as an INSERT (UTC datetimes, JSON), and
into the caller's transaction: nothing is committed here.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, insert, select


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (each with the same keys) into `table`."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    _copy(connection, table, rows)


def insert_returning_ids(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *, key: str) -> list[int]:
    """Insert `rows` and return their ids in the order of the rows; `key`: a unique column the rows give, to find them by."""
    if not rows:
        return []
    if connection.dialect.name != "postgresql":
        return list(connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)).scalars())
    _copy(connection, table, rows)
    wanted = [row[key] for row in rows]
    ids: dict[Any, int] = {}
    for start in range(0, len(wanted), 5000):
        ids.update({k: pk for pk, k in connection.execute(select(table.c.id, table.c[key]).where(table.c[key].in_(wanted[start:start + 5000])))})
    return [ids[k] for k in wanted]


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    given = list(rows[0])
    defaulted = [c for c in table.columns if c.key not in rows[0] and _python_default(c)]
    columns = [table.c[k] for k in given] + defaulted
    dialect = connection.dialect
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = [row[k] for k in given] + [c.default.arg(None) if c.default.is_callable else c.default.arg  # type: ignore[union-attr]
                                                    for c in defaulted]
                copy.write_row([v if p is None or v is None else p(v) for v, p in zip(values, processors)])
    finally:
        cursor.close()


def _python_default(column: Column[Any]) -> bool:
    default = column.default
    return default is not None and (default.is_callable or default.is_scalar)  # type: ignore[attr-defined]
