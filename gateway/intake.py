"""Receiving a report (push, upload, pull, drop folder): validate, store durably, queue normalization."""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contracts import Receipt, RejectedRecord, ReportEnvelope, WorkOrderRecord
from contracts.receipts import ProblemItem
from contracts.reports import period_problem
from gateway.db.models import Report, SeenSignature
from gateway.errors import Conflict, Unauthorized, ValidationFailed
from gateway.uow import UnitOfWork, emit

NORMALIZE = "normalize_report"


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


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"the body is not UTF-8 text (byte {exc.start}); send JSON in UTF-8", errors=[{"loc": ["body"], "msg": "not UTF-8"}]
        ) from exc
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"the body is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            errors=[{"loc": ["body"], "msg": exc.msg}],
        ) from exc


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
        # The model's own period check speaks for the whole model (loc []), and field
        # errors stop it from running at all: name a missing period at "period" either way.
        problem = period_problem(data.get("kind"), data.get("period"))
        envelope_errors = [e for e in _errors(exc) if not (problem and e["loc"] == [] and problem in e["msg"])]
        if problem and not any(e["loc"][:1] == ["period"] for e in envelope_errors):
            envelope_errors.append({"loc": ["period"], "msg": problem})
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


def _receipt(report: Report, *, duplicate: bool) -> Receipt:
    return Receipt(
        receipt_id=report.receipt_id,
        report_id=report.report_id,
        records=report.record_count,
        duplicate=duplicate,
        status_url=f"/api/v1/reports/{report.report_id}",
        rejected=[RejectedRecord.model_validate(r) for r in report.rejected or []],
    )


def _existing(session: Session, client_id: str, report_id: str, digest: str) -> Received | None:
    report = session.scalar(select(Report).where(Report.client_id == client_id, Report.report_id == report_id))
    if report is None:
        return None
    if report.body_sha256 != digest:
        raise Conflict(
            f"report {report_id!r} was already received (receipt {report.receipt_id}) with a different body; "
            "send corrections under a new report_id"
        )
    return Received(_receipt(report, duplicate=True), created=False)


def remember_signature(session: Session, signature: str) -> None:
    """Record a signature as used; a second use inside the window is a replay."""
    if session.get(SeenSignature, signature) is not None:
        raise Unauthorized("this signature was already used (replay); sign every request afresh")
    session.add(SeenSignature(signature=signature))


def store_report(session: Session, cmd: ReceiveReport) -> Received:
    """Validate and add a report to the session (no commit): the caller's transaction makes it durable.

    Also adds the outbox message that starts its normalization.
    """
    data = cmd.data
    digest = body_digest(data)
    report_id = data.get("report_id") if isinstance(data, dict) else None
    if cmd.signature is not None:
        remember_signature(session, cmd.signature)
    if isinstance(report_id, str):
        known = _existing(session, cmd.client_id, report_id, digest)
        if known is not None:
            return known
    envelope, records, rejected = validate_report(data, partial=cmd.partial, row_numbers=cmd.row_numbers)
    report = Report(
        client_id=cmd.client_id,
        report_id=envelope.report_id,
        receipt_id=uuid.uuid4().hex,
        kind=envelope.kind.value,
        title=envelope.title,
        summary=envelope.summary,
        period_start=envelope.period.start if envelope.period else None,
        period_end=envelope.period.end if envelope.period else None,
        issued_at=envelope.issued_at,
        body_sha256=digest,
        payload=[r.model_dump(mode="json") for r in records],
        record_count=len(records),
        rejected=[r.model_dump(mode="json", exclude_none=True) for r in rejected],
        state="received",
        source=cmd.source,
    )
    session.add(report)
    session.flush()
    emit(session, NORMALIZE, str(report.id), report_pk=report.id)
    return Received(_receipt(report, duplicate=False), created=True)


def handle_receive_report(cmd: ReceiveReport, uow: UnitOfWork) -> Received:
    with uow:
        try:
            received = store_report(uow.session, cmd)
            uow.commit()
            return received
        except IntegrityError:
            # Another request stored the same report (or used the same signature) a moment ago.
            uow.session.rollback()
            data = cmd.data if isinstance(cmd.data, dict) else {}
            if cmd.signature is not None and uow.session.get(SeenSignature, cmd.signature) is not None:
                raise Unauthorized("this signature was already used (replay); sign every request afresh") from None
            known = _existing(uow.session, cmd.client_id, str(data.get("report_id")), body_digest(cmd.data))
            if known is None:
                raise
            return known
