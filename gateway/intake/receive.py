"""Receiving a report (push, upload, pull, drop folder): validate, store durably, queue normalization."""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import Receipt, RejectedRecord, ReportEnvelope, WorkOrderRecord
from contracts.receipts import ProblemItem
from contracts.reports import period_problem
from gateway.db.models import Report, ReportChunk, SeenSignature, utcnow
from gateway.errors import Conflict, GatewayError, Unauthorized, ValidationFailed
from gateway.nonces import REPLAY
from gateway.queues import NORMALIZE, ROUTE, for_kind
from gateway.uow import UnitOfWork, emit_many

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
    return {"report_pk": report_pk, "seq": seq, "first_index": first_index, "record_count": len(records), "records": records}




def store_batch(session: Session, cmds: Sequence[ReceiveReport]) -> list[Received | GatewayError]:
    """Validate and add reports to the session (no commit): one answer per command, in order.

    The one implementation of intake, for a single push, a group of concurrent
    pushes (group commit), a pulled page or a file. Reads what it needs in one
    query per kind and writes with one multi-row insert per table. A report seen
    before (same client and report_id) is a duplicate when its body is the same
    and a Conflict when not; a signature seen before is a replay. Signatures
    are remembered only for requests that were stored or answered as duplicates.
    """
    results: list[Received | GatewayError | None] = [None] * len(cmds)
    digests = [body_digest(cmd.data) for cmd in cmds]
    keys = [(cmd.client_id, cmd.data.get("report_id") if isinstance(cmd.data, dict) else None) for cmd in cmds]

    signatures = {cmd.signature for cmd in cmds if cmd.signature}
    seen = set(session.scalars(select(SeenSignature.signature).where(SeenSignature.signature.in_(signatures)))) if signatures else set()
    wanted = {k for k in keys if isinstance(k[1], str)}
    known: dict[tuple[str, str], tuple[str, str, int, list[Any]]] = {}
    if wanted:
        # Per client, report_id IN (…): SQLite does not use the (client_id, report_id) index for a row-value IN.
        by_client: dict[str, list[str]] = {}
        for client_id, report_id in wanted:
            by_client.setdefault(client_id, []).append(report_id)
        rows = session.execute(
            select(Report.client_id, Report.report_id, Report.body_sha256, Report.receipt_id, Report.record_count, Report.rejected)
            .where(or_(*(and_(Report.client_id == c, Report.report_id.in_(ids)) for c, ids in by_client.items())))
        ).all()
        known = {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}

    new: list[dict[str, Any]] = []
    chunks_of: list[list[WorkOrderRecord]] = []
    remembered: list[str] = []
    for i, cmd in enumerate(cmds):
        key = keys[i]
        if cmd.signature is not None and cmd.signature in seen:
            results[i] = Unauthorized(REPLAY)
            continue
        try:
            if isinstance(key[1], str) and key in known:
                results[i] = _seen_before(key[1], known[key], digests[i], "body")
            else:
                envelope, records_ok, rejected_records = validate_report(cmd.data, partial=cmd.partial, row_numbers=cmd.row_numbers)
                receipt_id = uuid.uuid4().hex
                rejected_json = [r.model_dump(mode="json", exclude_none=True) for r in rejected_records]
                new.append(report_row(envelope, client_id=cmd.client_id, receipt_id=receipt_id, digest=digests[i], source=cmd.source,
                                      records=len(records_ok), rejected=rejected_json))
                chunks_of.append(records_ok)
                known[(cmd.client_id, envelope.report_id)] = (digests[i], receipt_id, len(records_ok), rejected_json)
                results[i] = Received(_receipt(envelope.report_id, receipt_id, len(records_ok), rejected_json, duplicate=False), created=True)
        except GatewayError as exc:
            results[i] = exc
            continue
        if cmd.signature is not None:
            seen.add(cmd.signature)
            remembered.append(cmd.signature)

    # Core inserts on the session's connection: the ORM's bulk machinery costs more than the rows.
    connection = session.connection()
    if remembered:
        now = utcnow()
        connection.execute(insert(SeenSignature.__table__), [{"signature": sig, "seen_at": now} for sig in remembered])
    if new:
        ids = connection.execute(insert(Report.__table__).returning(Report.__table__.c.id, sort_by_parameter_order=True), new).scalars().all()
        chunks = [
            chunk_row(pk, seq, start, [r.model_dump(mode="json") for r in records[start:start + CHUNK_SIZE]])
            for pk, records in zip(ids, chunks_of)
            for seq, start in enumerate(range(0, len(records), CHUNK_SIZE))
        ]
        kinds = {pk: str(row["kind"]) for pk, row in zip(ids, new)}
        if chunks:
            connection.execute(insert(ReportChunk.__table__), chunks)
            for urgent in (True, False):
                emit_many(session, for_kind(NORMALIZE, "urgent" if urgent else None),
                          [(f"{c['report_pk']}:{c['seq']}", {"report_pk": c["report_pk"], "seq": c["seq"]})
                           for c in chunks if (kinds[c["report_pk"]] == "urgent") == urgent])
        # A narrative-only report (urgent, no records) goes straight to routing.
        for pk, records in zip(ids, chunks_of):
            if not records:
                emit_many(session, for_kind(ROUTE, kinds[pk]), [(str(pk), {"report_pk": pk})])
    return [r for r in results if r is not None]


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

    def flush() -> None:
        nonlocal seq, buffer
        if buffer:
            connection.execute(insert(ReportChunk.__table__), [chunk_row(report_pk, seq, good - len(buffer), buffer)])
            seq += 1
            buffer = []

    for index, (row_no, raw) in enumerate(records):
        try:
            buffer.append(WorkOrderRecord.model_validate(raw).model_dump(mode="json"))
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
    emit_many(session, for_kind(NORMALIZE, head.kind), [(f"{report_pk}:{n}", {"report_pk": report_pk, "seq": n}) for n in range(seq)])
    return Received(_receipt(head.report_id, receipt_id, good, rejected, duplicate=False), created=True)

