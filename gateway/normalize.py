"""Normalization: from a pushed record to a stored, masked work order."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from sqlalchemy import select

from contracts import WorkOrderRecord
from gateway.db.models import Report, ReportWorkOrder, WorkOrder, utcnow
from gateway.privacy import citizen_key, mask_name, mask_text
from gateway.screening import screen
from gateway.uow import UnitOfWork

ROUTE = "route_report"


# Chinese punctuation is full-width by nature; NFKC would turn "，" into "," and
# make the text read like a machine wrote it. Everything else is NFKC-folded
# (full-width letters and digits, ideographic space, ① and the like).
_CJK_PUNCTUATION = re.compile("([\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f\uff5e\u3001\u3002\u300a\u300b\u3010\u3011\u201c\u201d\u2018\u2019\u2026\u2014])")


# Control characters and lone surrogates: nothing a person typed, and they break
# spreadsheets, mail and PostgreSQL text further on.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(text: str | None) -> str | None:
    """NFKC (but Chinese punctuation), control characters removed, whitespace folded; None for empty."""
    if text is None:
        return None
    text = _UNPRINTABLE.sub("", text)
    parts = _CJK_PUNCTUATION.split(text)
    text = "".join(part if i % 2 else unicodedata.normalize("NFKC", part) for i, part in enumerate(parts))
    return " ".join(text.split()) or None


@dataclass(frozen=True)
class NormalizedWorkOrder:
    ticket_no: str
    received_at: datetime
    channel: str | None
    category: list[str]
    district: str | None
    street: str | None
    community: str | None
    address: str | None
    content_masked: str
    caller_masked: str | None
    caller_key: str | None
    handling_unit: str | None
    status: str | None
    satisfaction: str | None
    flags: list[str]
    excluded_reason: str | None


def normalize_record(record: WorkOrderRecord, *, citizen_secret: bytes) -> NormalizedWorkOrder:
    caller_name = record.caller.name if record.caller else None
    caller_phone = record.caller.phone if record.caller else None
    content = clean(record.content) or ""
    category = [c for c in (clean(level) for level in record.category) if c]
    return NormalizedWorkOrder(
        ticket_no=record.ticket_no,
        received_at=record.received_at,
        channel=clean(record.channel),
        category=category,
        district=clean(record.district),
        street=clean(record.street),
        community=clean(record.community),
        address=mask_text(clean(record.address) or "", [caller_name]) or None,
        content_masked=mask_text(content, [caller_name]),
        caller_masked=mask_name(clean(caller_name)) if caller_name else None,
        caller_key=citizen_key(caller_phone, citizen_secret),
        handling_unit=clean(record.handling_unit),
        status=clean(record.status),
        satisfaction=clean(record.satisfaction),
        flags=[f for f in (clean(x) for x in record.flags) if f],
        excluded_reason=screen(record.flags, category, content),
    )


def _apply(order: WorkOrder, n: NormalizedWorkOrder, issued_at: datetime) -> None:
    for field in ("received_at", "channel", "category", "district", "street", "community", "address",
                  "content_masked", "caller_masked", "handling_unit", "flags", "excluded_reason"):
        setattr(order, field, getattr(n, field))
    if n.caller_key:
        order.caller_key = n.caller_key
    # The latest status wins by the issue time of the report that carried it.
    if order.status_issued_at is None or issued_at >= order.status_issued_at:
        order.status, order.satisfaction, order.status_issued_at = n.status, n.satisfaction, issued_at


def handle_normalize_report(report_pk: int, uow: UnitOfWork, *, citizen_secret: bytes, keep_raw: bool, outbox_id: int | None = None) -> None:
    """Upsert one work order per ticket and record its appearance in this report. Idempotent."""
    with uow:
        report = uow.session.get(Report, report_pk)
        if report is None or report.state != "received":
            uow.mark_done(outbox_id)
            uow.commit()
            return
        issued_at = report.issued_at or report.received_at
        records = [WorkOrderRecord.model_validate(r) for r in report.payload or []]
        tickets = {r.ticket_no for r in records}
        known = {
            wo.ticket_no: wo
            for wo in uow.session.scalars(select(WorkOrder).where(WorkOrder.ticket_no.in_(tickets)))
        } if tickets else {}
        seen_here: set[str] = set()
        for index, record in enumerate(records):
            n = normalize_record(record, citizen_secret=citizen_secret)
            order = known.get(n.ticket_no)
            seen_before = order is not None and n.ticket_no not in seen_here
            if order is None:
                order = WorkOrder(ticket_no=n.ticket_no, first_seen_at=utcnow())
                _apply(order, n, issued_at)
                uow.session.add(order)
                uow.session.flush()
                known[n.ticket_no] = order
            else:
                _apply(order, n, issued_at)
            if n.ticket_no in seen_here:
                continue  # the same ticket twice in one report counts once
            seen_here.add(n.ticket_no)
            uow.session.add(ReportWorkOrder(
                report_pk=report.id, work_order_pk=order.id, record_index=index,
                seen_before=seen_before, excluded_reason=n.excluded_reason,
            ))
        report.state = "normalized"
        report.normalized_at = utcnow()
        if not keep_raw:
            report.payload = None
        uow.emit(ROUTE, str(report.id), report_pk=report.id)
        uow.mark_done(outbox_id)
        uow.commit()

