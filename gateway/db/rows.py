"""Many rows in as few statements as the driver allows: ids given beforehand, one executemany (SQLite) or COPY (PostgreSQL) per table.

Used by the group commit of intake and by the pipeline's stages (a chunk's work orders, routing's updates).

Why not `insert(table).returning(id, sort_by_parameter_order=True)`: on SQLite it
runs one statement per row (rowids come back one by one), and on PostgreSQL it
renders a statement of every row's placeholders, which psycopg parses anew each
time (it prepares only statements of up to 50 parameters). Profiled on the push
benchmark, those two were most of the writer thread's time. Here the ids are
taken first (SQLite: after the largest, under the write lock every transaction
holds from its BEGIN IMMEDIATE; PostgreSQL: from the table's sequence), and the
rows go in by the driver's own executemany of one short statement (SQLite) or
by COPY (PostgreSQL: one round trip, no statement to parse), on the
connection's cursor without SQLAlchemy's per-statement machinery; a driver error is raised
as SQLAlchemy's (IntegrityError, OperationalError, …), as from `execute`.

The values pass through the column types' own bind conversions (UTC datetimes,
JSON) and Python-side defaults, as SQLAlchemy's INSERT would, except a
`JsonText` (JSON already written, e.g. by pydantic's serializer), stored as it
is. A value given once for many rows (one timestamp for a batch) is converted once.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Table, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

_Plan = tuple[str, list[str], list[Column[Any]], list[Callable[[Any], Any] | None], str]
_plans: dict[tuple[str, str, tuple[str, ...]], _Plan] = {}
_sequences: dict[tuple[str, str], str] = {}


def query(connection: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of one query in the driver's SQL (`marks(connection, n)` for its placeholders), on the connection's transaction."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(params))
        return list(cursor.fetchall())
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(connection, sql, params, exc) from exc
    finally:
        cursor.close()


def marks(connection: Connection, n: int) -> str:
    """`n` of the driver's placeholders, comma-separated."""
    return ", ".join(["?" if connection.dialect.paramstyle == "qmark" else "%s"] * n)


def allocate_ids(connection: Connection, table: Table, n: int) -> list[int]:
    """`n` new ids of `table`, ascending, for rows this transaction inserts."""
    if n <= 0:
        return []
    name = connection.dialect.name
    if name == "sqlite":
        # Every writer holds the database's write lock from BEGIN IMMEDIATE (gateway.db.engine): nobody takes these before us.
        # The same ids SQLite itself would pick (largest + 1; the tables have no AUTOINCREMENT).
        top = query(connection, f"SELECT max(id) FROM {table.name}")[0][0] or 0
        return list(range(top + 1, top + 1 + n))
    if name == "postgresql":
        key = (str(connection.engine.url), table.name)
        sequence = _sequences.get(key)
        if sequence is None:
            sequence = query(connection, "SELECT pg_get_serial_sequence(%s, 'id')", (table.name,))[0][0]
            _sequences[key] = sequence
        return sorted(r[0] for r in query(connection, "SELECT nextval(%s) FROM generate_series(1, %s)", (sequence, n)))
    raise NotImplementedError(f"allocate_ids: database {name!r} is not supported (SQLite or PostgreSQL)")


def _plan(connection: Connection, table: Table, keys: tuple[str, ...], into: str | None = None) -> _Plan:
    dialect = connection.dialect
    cache_key = (dialect.name, into or table.name, keys)
    plan = _plans.get(cache_key)
    if plan is None:
        given = [table.c[k] for k in keys]
        # A scratch table of some of the columns (`into`) gets what the rows give, no defaults.
        defaulted = [c for c in table.columns if c.key not in keys and _python_default(c)] if into is None else []
        columns = given + defaulted
        processors = [c.type._cached_bind_processor(dialect) for c in columns]
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in columns)
        target = into or dialect.identifier_preparer.format_table(table)
        sql = f"INSERT INTO {target} ({names}) VALUES ({marks(connection, len(columns))})"
        copy = f"COPY {target} ({names}) FROM STDIN"
        plan = (sql, list(keys), defaulted, processors, copy)
        _plans[cache_key] = plan
    return plan


class JsonText(str):
    """A JSON column's value already written as JSON text: stored as it is (not encoded again)."""


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *, into: str | None = None) -> None:
    """Insert `rows` (each with the same keys, ids included where the table's are wanted) in the caller's transaction.

    `into`: the name of a scratch table holding some of `table`'s columns (update_rows), converted as `table`'s.
    """
    if not rows:
        return
    sql, keys, defaulted, processors, copy = _plan(connection, table, tuple(rows[0]), into)
    _execute_many(connection, sql, _converted(rows, keys, defaulted, processors), copy=copy if connection.dialect.name == "postgresql" else None)


def _converted(rows: Sequence[dict[str, Any]], keys: Sequence[str], defaulted: Sequence[Column[Any]],
               processors: Sequence[Callable[[Any], Any] | None]) -> list[tuple[Any, ...]]:
    """Each row's values of `keys` (then the defaulted columns'), each through its column type's bind conversion."""
    converting = [(i, p) for i, p in enumerate(processors) if p is not None]
    shared: dict[tuple[int, int], Any] = {}  # (column, id(value)) → converted: a timestamp given to every row is converted once
    params = []
    for row in rows:
        values = [row[k] for k in keys]
        values += [c.default.arg(None) if c.default.is_callable else c.default.arg for c in defaulted]  # type: ignore[union-attr]
        # Every value through its type's conversion, None too (a JSON column stores None as JSON null, as SQLAlchemy does).
        for i, convert in converting:
            value = values[i]
            if isinstance(value, JsonText):
                continue
            if value is None or type(value) in _SCALARS:
                values[i] = convert(value)
                continue
            key = (i, id(value))
            if key not in shared:
                shared[key] = convert(value)
            values[i] = shared[key]
        params.append(tuple(values))
    return params


def _execute_many(connection: Connection, sql: str, params: list[tuple[Any, ...]], *, copy: str | None = None) -> None:
    """The driver's executemany of `sql`, or (`copy`, PostgreSQL) the rows by COPY, on the connection's cursor."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if copy is not None:
            # COPY: the rows as data, one round trip, nothing to parse per row (psycopg's executemany costs twice the CPU here).
            sql = copy
            with cursor.copy(copy) as out:
                for values in params:
                    out.write_row(values)
        else:
            cursor.executemany(sql, params)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(connection, sql, params, exc) from exc
    finally:
        cursor.close()


_SCALARS = frozenset({str, int, float, bool})


def insert_returning_ids(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (without ids) and return the ids they were given, in the order of the rows."""
    ids = allocate_ids(connection, table, len(rows))
    insert_rows(connection, table, [{"id": pk, **row} for pk, row in zip(ids, rows)])
    return ids


_scratch = itertools.count(1)


def update_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str] = ("id",),
                where: Mapping[str, Any] | None = None) -> None:
    """Set, in each row of `table` that `keys` name, the other columns the row gives (each row with the same keys).

    `where`: fixed conditions on further columns (e.g. {"report_pk": 7}) that every updated row also meets.
    SQLite: one executemany UPDATE (no round trips there). PostgreSQL, where an executemany UPDATE is one statement
    per row for the server (100,000 of them were a third of the route stage): COPY into a temporary table, then one
    UPDATE … FROM it. Columns an UPDATE statement sets by itself (onupdate: updated_at) are set as it would.
    """
    if not rows:
        return
    where = dict(where or {})
    values = [k for k in rows[0] if k not in keys]
    stamped = {c.key: (c.onupdate.arg(None) if c.onupdate.is_callable else c.onupdate.arg)  # type: ignore[union-attr]
               for c in table.columns if c.onupdate is not None and c.key not in rows[0]}
    if stamped:
        rows, values = [{**row, **stamped} for row in rows], [*values, *stamped]
    quote = connection.dialect.identifier_preparer.quote
    target = connection.dialect.identifier_preparer.format_table(table)
    column = {k: quote(table.c[k].name) for k in [*keys, *values, *where]}
    if connection.dialect.name != "postgresql":
        # One short UPDATE by the driver's executemany, the values through their types' conversions (as insert_rows).
        ordered = [*values, *keys]
        mark = marks(connection, 1)
        sql = (f"UPDATE {target} SET {', '.join(f'{column[v]} = {mark}' for v in values)} "
               f"WHERE {' AND '.join(f'{column[k]} = {mark}' for k in [*keys, *where])}")
        processors = {k: table.c[k].type._cached_bind_processor(connection.dialect) for k in [*ordered, *where]}
        fixed = _converted([where], list(where), (), [processors[k] for k in where])[0]  # the same for every row
        params = _converted(rows, ordered, (), [processors[k] for k in ordered])
        _execute_many(connection, sql, [row + fixed for row in params] if fixed else params)
        return
    name = f"_update_rows_{next(_scratch)}"
    connection.execute(text(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "
                            f"SELECT {', '.join(column[k] for k in [*keys, *values])} FROM {target} WITH NO DATA"))
    insert_rows(connection, table, rows, into=name)
    assignments = ", ".join(f"{column[v]} = t.{column[v]}" for v in values)
    matched = " AND ".join([f"{target}.{column[k]} = t.{column[k]}" for k in keys] + [f"{target}.{column[k]} = :w_{k}" for k in where])
    connection.execute(text(f"UPDATE {target} SET {assignments} FROM {name} AS t WHERE {matched}"), {f"w_{k}": v for k, v in where.items()})
    connection.execute(text(f"DROP TABLE {name}"))


def _wrapped(connection: Connection, sql: str, params: Any, exc: Exception) -> DBAPIError:
    dialect = connection.dialect
    wrapped = DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect)
    if dialect.is_disconnect(exc, connection.connection.driver_connection, None):
        connection.invalidate(exc)
        wrapped.connection_invalidated = True
    return wrapped  # type: ignore[return-value]


def _python_default(column: Column[Any]) -> bool:
    default = column.default
    return default is not None and (default.is_callable or default.is_scalar)  # type: ignore[attr-defined]


def one_of(column: ColumnElement[Any], values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`: one parameter, so psycopg keeps the statement
    prepared, where an IN of 2,000 placeholders was rendered and parsed anew for every look-up (over half the band
    look-ups' time in py-spy). Same plan either way.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
