"""Normalization: from a pushed record to a stored, masked work order."""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from sqlalchemy import select

from contracts import WorkOrderRecord
from gateway.db.models import Report, ReportWorkOrder, WorkOrder, utcnow
from gateway.classifier import CategoryClassifier
from gateway.gazetteer import Gazetteer
from gateway.privacy import citizen_key, mask_name, mask_text
from gateway.screening import Screening
from gateway.taxonomy import Taxonomy
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
    category_inferred: bool
    category_confidence: float | None
    category_unmapped: list[str]
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


STATUS = {
    "closed": ("closed", "已办结", "办结", "已完成", "完成", "已结案", "结案", "已解决"),
    "processing": ("processing", "办理中", "处理中", "正在办理", "在办", "正在处理"),
    "accepted": ("accepted", "已受理", "受理", "待处理", "待办", "已派单", "派单"),
    "returned": ("returned", "退回", "已退回", "退单"),
}
SATISFACTION = {
    "satisfied": ("satisfied", "满意", "非常满意"),
    "basically_satisfied": ("basically_satisfied", "基本满意", "比较满意"),
    "unsatisfied": ("unsatisfied", "不满意", "很不满意", "非常不满意"),
    "not_rated": ("not_rated", "未评价", "未回访", "无", "暂无"),
}


def _vocabulary(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {word.lower(): key for key, words in table.items() for word in words}


_STATUS, _SATISFACTION = _vocabulary(STATUS), _vocabulary(SATISFACTION)


def vocabulary_value(value: str | None, table: dict[str, str]) -> str | None:
    """Onto the fixed vocabulary; "other" for a word we do not know (counted, not lost: the text is in the report)."""
    if value is None:
        return None
    return table.get(value.strip().lower(), "other")


class Normalizer:
    """Everything normalization needs that comes from configuration: taxonomy, gazetteer, classifier."""

    def __init__(self, *, taxonomy: Taxonomy, gazetteer: Gazetteer, classifier: CategoryClassifier | None,
                 citizen_secret: bytes, min_confidence: float = 0.5, screening: Screening | None = None) -> None:
        self.taxonomy = taxonomy
        self.gazetteer = gazetteer
        self.classifier = classifier
        self.citizen_secret = citizen_secret
        self.min_confidence = min_confidence
        self.screening = screening or Screening()
        self._t2s = threading.local()

    def simplified(self, text: str | None) -> str | None:
        if not text:
            return text
        converter = getattr(self._t2s, "converter", None)
        if converter is None:
            import opencc

            converter = self._t2s.converter = opencc.OpenCC("t2s")
        return converter.convert(text)

    def text(self, value: str | None) -> str | None:
        return self.simplified(clean(value))

    def record(self, record: WorkOrderRecord) -> NormalizedWorkOrder:
        caller_name = record.caller.name if record.caller else None
        caller_phone = record.caller.phone if record.caller else None
        content = self.text(record.content) or ""
        address = self.text(record.address)
        mapped = self.taxonomy.map([c for c in (self.text(level) for level in record.category) if c])
        category, inferred, confidence = mapped.path, False, None
        if mapped.empty and self.classifier is not None:
            guess = self.classifier.predict(content)
            inferred, confidence = True, round(guess.confidence, 4)
            # Below the threshold the guess is kept for the office to see, but the order goes to triage.
            category = [guess.category]
        place = self.gazetteer.resolve(self.text(record.district), self.text(record.street), self.text(record.community), address, content)
        return NormalizedWorkOrder(
            ticket_no=record.ticket_no,
            received_at=record.received_at,
            channel=clean(record.channel),
            category=category,
            category_inferred=inferred,
            category_confidence=confidence,
            category_unmapped=mapped.unmapped,
            district=place.district,
            street=place.street,
            community=place.community,
            address=mask_text(address or "", [caller_name]) or None,
            content_masked=mask_text(content, [caller_name]),
            caller_masked=mask_name(clean(caller_name)) if caller_name else None,
            caller_key=citizen_key(caller_phone, self.citizen_secret),
            handling_unit=self.text(record.handling_unit),
            status=vocabulary_value(clean(record.status), _STATUS),
            satisfaction=vocabulary_value(clean(record.satisfaction), _SATISFACTION),
            flags=[f for f in (clean(x) for x in record.flags) if f],
            excluded_reason=self.screening.screen(record.flags, category, content),
        )

    def routable_category(self, n: NormalizedWorkOrder) -> list[str]:
        """The category routing may use: an inferred one only when the classifier was sure enough."""
        if n.category_inferred and (n.category_confidence or 0) < self.min_confidence:
            return []
        return n.category


def _apply(order: WorkOrder, n: NormalizedWorkOrder, issued_at: datetime) -> None:
    for field in ("received_at", "channel", "category", "category_inferred", "category_confidence", "district", "street",
                  "community", "address", "content_masked", "caller_masked", "handling_unit", "flags", "excluded_reason"):
        setattr(order, field, getattr(n, field))
    if n.caller_key:
        order.caller_key = n.caller_key
    # The latest status wins by the issue time of the report that carried it.
    if order.status_issued_at is None or issued_at >= order.status_issued_at:
        order.status, order.satisfaction, order.status_issued_at = n.status, n.satisfaction, issued_at


@dataclass
class NormalizeSummary:
    records: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    unmapped: int = 0
    inferred: int = 0


def handle_normalize_report(report_pk: int, uow: UnitOfWork, *, normalizer: Normalizer, keep_raw: bool, outbox_id: int | None = None) -> NormalizeSummary:
    """Upsert one work order per ticket and record its appearance in this report. Idempotent."""
    with uow:
        report = uow.session.get(Report, report_pk)
        summary = NormalizeSummary()
        if report is None or report.state != "received":
            uow.mark_done(outbox_id)
            uow.commit()
            return summary
        issued_at = report.issued_at or report.received_at
        records = [WorkOrderRecord.model_validate(r) for r in report.payload or []]
        tickets = {r.ticket_no for r in records}
        known = {
            wo.ticket_no: wo
            for wo in uow.session.scalars(select(WorkOrder).where(WorkOrder.ticket_no.in_(tickets)))
        } if tickets else {}
        seen_here: set[str] = set()
        unmapped = inferred = 0
        for index, record in enumerate(records):
            n = normalizer.record(record)
            unmapped += bool(n.category_unmapped)
            inferred += n.category_inferred
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
            summary.records += 1
            summary.duplicates += seen_before
            if n.excluded_reason:
                summary.excluded[n.excluded_reason] = summary.excluded.get(n.excluded_reason, 0) + 1
            uow.session.add(ReportWorkOrder(
                report_pk=report.id, work_order_pk=order.id, record_index=index,
                seen_before=seen_before, excluded_reason=n.excluded_reason,
            ))
        report.state = "normalized"
        report.categories_unmapped, report.categories_inferred = unmapped, inferred
        summary.unmapped, summary.inferred = unmapped, inferred
        report.normalized_at = utcnow()
        if not keep_raw:
            report.payload = None
        uow.emit(ROUTE, str(report.id), report_pk=report.id)
        uow.mark_done(outbox_id)
        uow.commit()
        return summary

