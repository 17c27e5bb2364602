"""Receiving a report (push, upload, pull, drop folder): validate, store durably, queue normalization."""
from __future__ import annotations

import hashlib
import json
import uuid
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import Receipt, RejectedRecord, ReportEnvelope, WorkOrderRecord
from contracts.receipts import ProblemItem
from contracts.reports import period_problem
from gateway.db.models import Report, ReportChunk, SeenSignature, utcnow
from gateway.db.rows import JsonText, allocate_ids, insert_rows, marks, query
from gateway.errors import Conflict, GatewayError, Unauthorized, ValidationFailed
from gateway.nonces import REPLAY
from gateway.queues import NORMALIZE, ROUTE, for_kind
from gateway.ports import Queued
from gateway.uow import UnitOfWork, emit_many, outbox_rows, record_emitted

CHUNK_SIZE = 5000  # records normalized together: bounds memory, and chunks spread over workers


@dataclass(frozen=True)
class ReceiveReport:
    """A report to take in. `data` is the parsed JSON value; `signature` is set for signed HTTP requests."""

    client_id: str
    data: Any
    signature: str | None = None
    partial: bool = False
    source: str = "push"
    row_numbers: Sequence[int] | None = None  # spreadsheet rows of the records, for uploads


@dataclass(frozen=True)
class Received:
    receipt: Receipt
    created: bool


def _errors(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    return [{"loc": [*prefix, *err["loc"]], "msg": err["msg"]} for err in exc.errors()]


def body_digest(data: Any) -> str:
    # "The same body" means the same JSON value: key order and spacing do not matter.
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validate_report(
    data: Any, *, partial: bool, row_numbers: Sequence[int] | None = None
) -> tuple[ReportEnvelope, list[WorkOrderRecord], list[RejectedRecord]]:
    """The envelope, the good records and (with partial) the rejected ones, or ValidationFailed listing every bad field."""
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object (a report)", errors=[{"loc": ["body"], "msg": "not an object"}])
    envelope_errors: list[dict[str, Any]] = []
    envelope: ReportEnvelope | None
    try:
        envelope = ReportEnvelope.model_validate(data)
    except ValidationError as exc:
        envelope = None
        envelope_errors = _envelope_errors(exc, data)
    raw_records = data.get("records") if isinstance(data.get("records"), list) else []
    good: list[WorkOrderRecord] = []
    rejected: list[RejectedRecord] = []
    for index, raw in enumerate(raw_records):
        try:
            good.append(WorkOrderRecord.model_validate(raw))
        except ValidationError as exc:
            row = row_numbers[index] if row_numbers is not None else None
            prefix = ("row", row) if row is not None else ("records", index)
            ticket = raw.get("ticket_no") if isinstance(raw, dict) and isinstance(raw.get("ticket_no"), str) else None
            rejected.append(RejectedRecord(index=index, row=row, ticket_no=ticket, errors=[ProblemItem(**e) for e in _errors(exc, prefix)]))
    record_errors = [e.model_dump() for r in rejected for e in r.errors]
    if envelope is None or (rejected and (not partial or not good)):
        detail = f"{len(envelope_errors) + len(record_errors)} problem(s) in the report"
        if rejected:
            unit = "rows" if row_numbers is not None else "records"
            detail += f"; {len(rejected)} of {len(raw_records)} {unit} are bad"
            if not partial:
                detail += " (send ?partial=true to store the good ones)"
        raise ValidationFailed(detail, errors=envelope_errors + record_errors)
    return envelope, good, rejected


def _receipt(report_id: str, receipt_id: str, records: int, rejected: list[Any] | None, *, duplicate: bool) -> Receipt:
    return Receipt(
        receipt_id=receipt_id,
        report_id=report_id,
        records=records,
        duplicate=duplicate,
        status_url=f"/api/v1/reports/{report_id}",
        rejected=[RejectedRecord.model_validate(r) for r in rejected or []],
    )


def _envelope_errors(exc: ValidationError, data: dict[str, Any]) -> list[dict[str, Any]]:
    # The model's own period check speaks for the whole model (loc []), and field
    # errors stop it from running at all: name a missing period at "period" either way.
    problem = period_problem(data.get("kind"), data.get("period"))
    errors = [e for e in _errors(exc) if not (problem and e["loc"] == [] and problem in e["msg"])]
    if problem and not any(e["loc"][:1] == ["period"] for e in errors):
        errors.append({"loc": ["period"], "msg": problem})
    return errors


def _seen_before(report_id: str, stored: tuple[Any, ...], digest: str, what: str) -> Received:
    """A report received before: the original receipt when it is the same, Conflict when not."""
    stored_digest, receipt_id, records, rejected = stored
    if stored_digest != digest:
        raise Conflict(
            f"report {report_id!r} was already received (receipt {receipt_id}) with a different {what}; "
            "send corrections under a new report_id"
        )
    return Received(_receipt(report_id, receipt_id, records, rejected, duplicate=True), created=False)


def report_row(envelope: ReportEnvelope, *, client_id: str, receipt_id: str, digest: str, source: str, records: int,
               rejected: list[dict[str, Any]]) -> dict[str, Any]:
    """The `reports` row of a received report, for a push (store_batch) and a streamed file (store_stream) alike.

    A report without records (an urgent one that is narrative only) is born
    normalized: nothing is left to normalize, it goes to routing at once.
    """
    return {
        "client_id": client_id, "report_id": envelope.report_id, "receipt_id": receipt_id,
        "kind": envelope.kind.value, "title": envelope.title, "summary": envelope.summary,
        "period_start": envelope.period.start if envelope.period else None,
        "period_end": envelope.period.end if envelope.period else None,
        "issued_at": envelope.issued_at, "body_sha256": digest, "payload": None,
        "record_count": records, "chunk_count": -(-records // CHUNK_SIZE), "chunks_normalized": 0,
        "rejected": rejected, "state": "received" if records else "normalized", "source": source, "received_at": utcnow(),
    }


def chunk_row(report_pk: int, seq: int, first_index: int, records: list[dict[str, Any]]) -> dict[str, Any]:
    """One `report_chunks` row: up to CHUNK_SIZE validated records, normalized by one message."""
    return {"report_pk": report_pk, "seq": seq, "first_index": first_index, "record_count": len(records), "records": records,
            "repeated_later": None}


def repeated_later(ticket_hashes: Sequence[int], chunk_size: int) -> dict[int, list[int]]:
    """{chunk seq: indices of its records whose ticket a later chunk of the report has again}, from hash() of each record's ticket.

    Issue assignment leaves such a ticket to the last chunk that has it, whose text is the one kept
    (gateway.pipeline.assign). Found by sorting 8-byte hashes, not with a dictionary of the tickets: a million-record
    report costs 8 MB here. Two different tickets with the same 64-bit hash (about one in 10^7 million-record reports)
    would leave the earlier one to routing, which assigns what assignment left.
    """
    if len(ticket_hashes) <= chunk_size:
        return {}
    hashes = np.asarray(ticket_hashes, dtype=np.int64)
    order = np.argsort(hashes, kind="stable")  # equal hashes together, each run in record order
    ranked = hashes[order]
    starts = np.r_[True, ranked[1:] != ranked[:-1]]
    ends = np.r_[ranked[1:] != ranked[:-1], True]
    last_chunk = (order[ends] // chunk_size)[np.cumsum(starts) - 1]  # the chunk of each run's last record
    deferred = np.sort(order[order // chunk_size < last_chunk])
    result: dict[int, list[int]] = {}
    for index in deferred.tolist():
        result.setdefault(index // chunk_size, []).append(index)
    return result


_RECORD_LIST = TypeAdapter(list[WorkOrderRecord])


@dataclass(frozen=True)
class Prepared:
    """A report to store, with what can be worked out before the transaction: its digest, and whether (and how) it validates.

    A validation error is kept, not raised: a replay or a report received before
    is answered as such whatever its body, as if validation came after (it does).
    """

    cmd: ReceiveReport
    digest: str
    key: tuple[str, Any]
    row: dict[str, Any] | None = None  # the reports row (without its id) when valid
    records: int = 0  # how many validated records
    chunks: tuple[JsonText, ...] = ()  # their report_chunks.records, CHUNK_SIZE a chunk, as JSON text
    repeated: dict[int, list[int]] = field(default_factory=dict)  # report_chunks.repeated_later by seq
    rejected: list[dict[str, Any]] | None = None
    invalid: GatewayError | None = None


def prepare(cmd: ReceiveReport) -> Prepared:
    """Everything store_batch needs that does not read the database (a push does it before it waits for the writer)."""
    digest = body_digest(cmd.data)
    key = (cmd.client_id, cmd.data.get("report_id") if isinstance(cmd.data, dict) else None)
    try:
        envelope, records_ok, rejected_records = validate_report(cmd.data, partial=cmd.partial, row_numbers=cmd.row_numbers)
    except GatewayError as exc:
        return Prepared(cmd, digest, key, invalid=exc)
    rejected = [r.model_dump(mode="json", exclude_none=True) for r in rejected_records]
    # The records as JSON in one call (what model_dump(mode="json") would give, written by pydantic's serializer).
    chunks = tuple(JsonText(_RECORD_LIST.dump_json(records_ok[start:start + CHUNK_SIZE]).decode("utf-8"))
                   for start in range(0, len(records_ok), CHUNK_SIZE))
    row = report_row(envelope, client_id=cmd.client_id, receipt_id=uuid.uuid4().hex, digest=digest, source=cmd.source,
                     records=len(records_ok), rejected=rejected)
    repeated = repeated_later([hash(r.ticket_no) for r in records_ok], CHUNK_SIZE) if len(records_ok) > CHUNK_SIZE else {}
    return Prepared(cmd, digest, (cmd.client_id, envelope.report_id), row=row, records=len(records_ok), chunks=chunks, rejected=rejected,
                    repeated=repeated)


def store_batch(session: Session, cmds: Sequence[ReceiveReport | Prepared]) -> list[Received | GatewayError]:
    """Validate and add reports to the session (no commit): one answer per command, in order.

    The one implementation of intake, for a single push, a group of concurrent
    pushes (group commit), a pulled page or a file: `store_rows` on the
    session's connection, its queue messages sent after the session commits.
    """
    results, queued = store_rows(session.connection(), cmds)
    record_emitted(session, queued)
    return results


def store_rows(connection: Connection, cmds: Sequence[ReceiveReport | Prepared]) -> tuple[list[Received | GatewayError], list[Queued]]:
    """store_batch on a connection's transaction (no commit): the answers, and the queue messages to send after the commit.

    Reads what it needs in one query per kind and writes with one many-row
    insert per table, ids given beforehand (gateway.db.rows). A report seen
    before (same client and report_id) is a duplicate when its body is the same
    and a Conflict when not; a signature seen before is a replay. Signatures
    are remembered only for requests that were stored or answered as duplicates.
    """
    items = [c if isinstance(c, Prepared) else prepare(c) for c in cmds]
    results: list[Received | GatewayError | None] = [None] * len(items)
    seen = _seen_signatures(connection, {p.cmd.signature for p in items if p.cmd.signature})
    known = _known_reports(connection, {p.key for p in items if isinstance(p.key[1], str)})

    new: list[Prepared] = []
    remembered: list[str] = []
    for i, item in enumerate(items):
        cmd, key = item.cmd, item.key
        if cmd.signature is not None and cmd.signature in seen:
            results[i] = Unauthorized(REPLAY)
            continue
        if isinstance(key[1], str) and key in known:
            try:
                results[i] = _seen_before(key[1], known[key], item.digest, "body")
            except GatewayError as exc:
                results[i] = exc
                continue
        elif item.invalid is not None:
            results[i] = item.invalid
            continue
        else:
            assert item.row is not None
            rejected = item.rejected or []
            receipt_id, records = item.row["receipt_id"], item.records
            new.append(item)
            known[key] = (item.digest, receipt_id, records, rejected)
            results[i] = Received(_receipt(key[1], receipt_id, records, rejected, duplicate=False), created=True)
        if cmd.signature is not None:
            seen.add(cmd.signature)
            remembered.append(cmd.signature)

    now = utcnow()
    if remembered:
        insert_rows(connection, SeenSignature.__table__, [{"signature": sig, "seen_at": now} for sig in remembered])
    queued: list[Queued] = []
    if new:
        ids = allocate_ids(connection, Report.__table__, len(new))
        insert_rows(connection, Report.__table__, [{"id": pk, **item.row, "received_at": now} for pk, item in zip(ids, new) if item.row is not None])
        chunks = [
            {"report_pk": pk, "seq": seq, "first_index": seq * CHUNK_SIZE, "record_count": min(CHUNK_SIZE, item.records - seq * CHUNK_SIZE),
             "records": text, "repeated_later": item.repeated.get(seq)}
            for pk, item in zip(ids, new)
            for seq, text in enumerate(item.chunks)
        ]
        kinds = {pk: str(item.row["kind"]) for pk, item in zip(ids, new) if item.row is not None}
        messages: list[tuple[str, str, dict[str, Any]]] = []
        if chunks:
            insert_rows(connection, ReportChunk.__table__, chunks)
            for urgent in (True, False):
                actor = for_kind(NORMALIZE, "urgent" if urgent else None)
                messages += [(actor, f"{c['report_pk']}:{c['seq']}", {"report_pk": c["report_pk"], "seq": c["seq"]})
                             for c in chunks if (kinds[c["report_pk"]] == "urgent") == urgent]
        # A narrative-only report (urgent, no records) goes straight to routing.
        messages += [(for_kind(ROUTE, kinds[pk]), str(pk), {"report_pk": pk}) for pk, item in zip(ids, new) if not item.records]
        queued = outbox_rows(connection, messages, now=now)
    return [r for r in results if r is not None], queued


def _seen_signatures(connection: Connection, signatures: set[str]) -> set[str]:
    if not signatures:
        return set()
    wanted = sorted(signatures)
    return {r[0] for r in query(connection, f"SELECT signature FROM seen_signatures WHERE signature IN ({marks(connection, len(wanted))})", wanted)}


def _known_reports(connection: Connection, keys: set[tuple[str, Any]]) -> dict[tuple[str, str], tuple[str, str, int, list[Any]]]:
    """(client, report_id) → (digest, receipt_id, records, rejected) of the reports among `keys` received before."""
    if not keys:
        return {}
    # Per client, report_id IN (…): SQLite does not use the (client_id, report_id) index for a row-value IN.
    by_client: dict[str, list[str]] = {}
    for client_id, report_id in sorted(keys):
        by_client.setdefault(client_id, []).append(report_id)
    where = " OR ".join(f"(client_id = {marks(connection, 1)} AND report_id IN ({marks(connection, len(ids))}))" for ids in by_client.values())
    params = [v for client_id, ids in by_client.items() for v in (client_id, *ids)]
    rows = query(connection, f"SELECT client_id, report_id, body_sha256, receipt_id, record_count, rejected FROM reports WHERE {where}", params)
    return {(r[0], r[1]): (r[2], r[3], r[4], json.loads(r[5]) if isinstance(r[5], (str, bytes)) else r[5]) for r in rows}


def store_report(session: Session, cmd: ReceiveReport) -> Received:
    """store_batch for one report: its answer, or its error raised."""
    (result,) = store_batch(session, [cmd])
    if isinstance(result, GatewayError):
        raise result
    return result


def handle_receive_report(cmd: ReceiveReport, uow: UnitOfWork) -> Received:
    """One report in its own transaction."""
    with uow:
        try:
            received = store_report(uow.session, cmd)
            uow.commit()
            return received
        except IntegrityError:
            # Another process stored the same report (or used the same signature) a moment ago: ask again.
            uow.session.rollback()
            received = store_report(uow.session, cmd)
            uow.commit()
            return received


REJECTIONS_LISTED = 1000  # rows named one by one in an answer; the rest are counted


def store_stream(session: Session, *, client_id: str, source: str, envelope: dict[str, Any], records: Iterable[tuple[int, Any]],
                 digest: str, partial: bool) -> Received:
    """A file's report stored a chunk at a time, so that memory holds one chunk, not the report (no commit).

    Same rules as store_batch: idempotency by (client, report_id) with `digest`
    standing for the content, every bad row named (up to REJECTIONS_LISTED, then
    counted), the whole report refused unless `partial`.
    """
    report_id = envelope.get("report_id")
    if isinstance(report_id, str):
        row = session.execute(
            select(Report.body_sha256, Report.receipt_id, Report.record_count, Report.rejected)
            .where(Report.client_id == client_id, Report.report_id == report_id)
        ).first()
        if row is not None:
            return _seen_before(report_id, tuple(row), digest, "file")
    try:
        head = ReportEnvelope.model_validate({**envelope, "records": [{}]})  # the records are checked one by one below
    except ValidationError as exc:
        errors = _envelope_errors(exc, envelope)
        raise ValidationFailed(f"{len(errors)} problem(s) in the report", errors=errors) from exc
    receipt_id = uuid.uuid4().hex
    connection = session.connection()
    # Counted as the rows are read; the row is corrected at the end (the file is refused whole if they are bad).
    fields = report_row(head, client_id=client_id, receipt_id=receipt_id, digest=digest, source=source, records=0, rejected=[])
    report_pk = connection.execute(insert(Report.__table__).returning(Report.__table__.c.id), [{**fields, "state": "received"}]).scalar_one()
    good = bad = seq = 0
    buffer: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    ticket_hashes = array("q")  # hash() of each good record's ticket (repeated_later)

    def flush() -> None:
        nonlocal seq, buffer
        if buffer:
            connection.execute(insert(ReportChunk.__table__), [chunk_row(report_pk, seq, good - len(buffer), buffer)])
            seq += 1
            buffer = []

    for index, (row_no, raw) in enumerate(records):
        try:
            buffer.append(WorkOrderRecord.model_validate(raw).model_dump(mode="json"))
            ticket_hashes.append(hash(buffer[-1]["ticket_no"]))
            good += 1
        except ValidationError as exc:
            bad += 1
            if len(rejected) < REJECTIONS_LISTED:
                ticket = raw.get("ticket_no") if isinstance(raw, dict) and isinstance(raw.get("ticket_no"), str) else None
                rejected.append(RejectedRecord(index=index, row=row_no, ticket_no=ticket,
                                               errors=[ProblemItem(**e) for e in _errors(exc, ("row", row_no))]).model_dump(mode="json", exclude_none=True))
            continue
        if len(buffer) >= CHUNK_SIZE:
            flush()
    flush()
    if bad and (not partial or not good) or not good:
        detail = f"{bad} of {good + bad} rows are bad" + ("" if partial else " (send partial to store the good ones)") if bad else "the file holds no work orders"
        if bad > len(rejected):
            detail += f"; the first {len(rejected)} are listed"
        raise ValidationFailed(detail, errors=[e for r in rejected for e in r["errors"]] or [{"loc": ["file"], "msg": "no records"}])
    connection.execute(update(Report.__table__).where(Report.__table__.c.id == report_pk).values(record_count=good, chunk_count=seq, rejected=rejected))
    chunks = ReportChunk.__table__.c
    repeated = repeated_later(ticket_hashes, CHUNK_SIZE)
    if repeated:
        connection.execute(update(ReportChunk.__table__).where(chunks.report_pk == report_pk, chunks.seq == bindparam("_seq"))
                           .values(repeated_later=bindparam("_later")), [{"_seq": n, "_later": later} for n, later in repeated.items()])
    emit_many(session, for_kind(NORMALIZE, head.kind), [(f"{report_pk}:{n}", {"report_pk": report_pk, "seq": n}) for n in range(seq)])
    return Received(_receipt(head.report_id, receipt_id, good, rejected, duplicate=False), created=True)

