"""Many rows into one table at once: PostgreSQL's COPY where it runs, a multi-row INSERT (an executemany UPDATE) elsewhere.

Why not SQLAlchemy's multi-row INSERT on PostgreSQL too: it renders a statement of a thousand rows' placeholders,
and psycopg parses every statement longer than 4,096 characters or with more than 50 parameters anew
(its cache takes only short ones): profiled on two workers normalizing a 100,000-record report, that parsing was
31 % of their time. COPY sends the rows as data, with nothing to parse.

Updates of many rows go the same way on PostgreSQL: COPY into a temporary table, then one UPDATE … FROM it (an
executemany UPDATE is one statement per row for the server: 100,000 of them were a third of the route stage).

The rows go through the same column defaults and type conversions as an INSERT (UTC datetimes, JSON), and
into the caller's transaction: nothing is committed here.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, bindparam, insert, select, text, update


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


_temporary = itertools.count(1)


def update_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str] = ("id",),
                where: Mapping[str, Any] | None = None) -> None:
    """Set, in each row of `table` that `keys` name, the other columns the row gives (each with the same keys).

    `where`: fixed conditions on further columns (e.g. {"report_pk": 7}) that every updated row also meets.
    """
    if not rows:
        return
    where = dict(where or {})
    values = [k for k in rows[0] if k not in keys]
    if connection.dialect.name != "postgresql":
        condition = and_(*(table.c[k] == bindparam(f"_k_{k}") for k in keys), *(table.c[k] == v for k, v in where.items()))
        connection.execute(update(table).where(condition).values({v: bindparam(f"_v_{v}") for v in values}),
                           [{**{f"_k_{k}": row[k] for k in keys}, **{f"_v_{v}": row[v] for v in values}} for row in rows])
        return
    # What an UPDATE statement would set by itself (updated_at and the like): once for all rows, as one statement would.
    stamped = {c.key: (c.onupdate.arg(None) if c.onupdate.is_callable else c.onupdate.arg)  # type: ignore[union-attr]
               for c in table.columns if c.onupdate is not None and c.key not in rows[0]}
    if stamped:
        rows, values = [{**row, **stamped} for row in rows], [*values, *stamped]
    quote = connection.dialect.identifier_preparer.quote
    target, name = connection.dialect.identifier_preparer.format_table(table), f"_bulk_update_{next(_temporary)}"
    columns = ", ".join(quote(table.c[k].name) for k in [*keys, *values])
    connection.execute(text(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS SELECT {columns} FROM {target} WITH NO DATA"))
    _copy(connection, table, rows, into=name, defaults=False)
    assignments = ", ".join(f"{quote(table.c[v].name)} = t.{quote(table.c[v].name)}" for v in values)
    matched = " AND ".join([f"{target}.{quote(table.c[k].name)} = t.{quote(table.c[k].name)}" for k in keys]
                           + [f"{target}.{quote(table.c[k].name)} = :w_{k}" for k in where])
    connection.execute(text(f"UPDATE {target} SET {assignments} FROM {name} AS t WHERE {matched}"), {f"w_{k}": v for k, v in where.items()})
    connection.execute(text(f"DROP TABLE {name}"))


def _copy(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *, into: str | None = None, defaults: bool = True) -> None:
    given = list(rows[0])
    defaulted = [c for c in table.columns if defaults and c.key not in rows[0] and _python_default(c)]
    columns = [table.c[k] for k in given] + defaulted
    dialect = connection.dialect
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    names = ", ".join(dialect.identifier_preparer.quote(c.name) for c in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {into or dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                values = [row[k] for k in given] + [c.default.arg(None) if c.default.is_callable else c.default.arg  # type: ignore[union-attr]
                                                    for c in defaulted]
                copy.write_row([v if p is None or v is None else p(v) for v, p in zip(values, processors)])
    finally:
        cursor.close()


def _python_default(column: Column[Any]) -> bool:
    default = column.default
    return default is not None and (default.is_callable or default.is_scalar)  # type: ignore[attr-defined]
