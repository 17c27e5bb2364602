"""Normalization: from a pushed record to a stored, masked work order."""
from __future__ import annotations

import functools
import logging
import multiprocessing
import pickle
import re
import threading
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from pydantic import TypeAdapter
from sqlalchemy import select

from contracts import WorkOrderRecord
from gateway.db.rows import insert_returning_ids, insert_rows, update_rows
from gateway.db.models import Report, ReportChunk, ReportWorkOrder, WorkOrder, utcnow
from gateway.pipeline.assign import pack_signatures, run_after_normalize
from gateway.queues import ROUTE, for_kind
from gateway.pipeline.classifier import CategoryClassifier
from gateway.pipeline.gazetteer import Gazetteer
from gateway.pipeline.heap import settle_once
from gateway.pipeline.neardup import HASHER
from gateway.pipeline.privacy import citizen_key, mask_name, mask_text
from gateway.pipeline.screening import Screening
from gateway.pipeline.taxonomy import Taxonomy
from gateway.uow import UnitOfWork

_RECORDS = TypeAdapter(list[WorkOrderRecord])
log = logging.getLogger(__name__)


# Chinese punctuation is full-width by nature; NFKC would turn "，" into "," and
# make the text read like a machine wrote it. Everything else is NFKC-folded
# (full-width letters and digits, ideographic space, ① and the like).
_CJK_PUNCTUATION = re.compile("([\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f\uff5e\u3001\u3002\u300a\u300b\u3010\u3011\u201c\u201d\u2018\u2019\u2026\u2014])")


# Control characters and lone surrogates: nothing a person typed, and they break
# spreadsheets, mail and PostgreSQL text further on.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


# The punctuation NFKC must not touch, held in private-use characters while the rest is folded in one call (a
# private-use character is a starter that NFKC neither changes nor composes with anything): the same result as
# folding the pieces between the punctuation one by one, at a fraction of the cost.
_KEPT = "\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f\uff5e\u3001\u3002\u300a\u300b\u3010\u3011\u201c\u201d\u2018\u2019\u2026\u2014"
_HOLD = {ord(c): 0xF0000 + i for i, c in enumerate(_KEPT)}
_RELEASE = {v: k for k, v in _HOLD.items()}
_HELD = re.compile("[\U000F0000-\U000F0013]")


def clean(text: str | None) -> str | None:
    """NFKC (but Chinese punctuation), control characters removed, whitespace folded; None for empty."""
    if text is None:
        return None
    text = _UNPRINTABLE.sub("", text)
    if _HELD.search(text):  # the text itself holds one of the placeholders: piece by piece
        parts = _CJK_PUNCTUATION.split(text)
        text = "".join(part if i % 2 else unicodedata.normalize("NFKC", part) for i, part in enumerate(parts))
    elif not text.isascii():
        text = unicodedata.normalize("NFKC", text.translate(_HOLD)).translate(_RELEASE)
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
    likes: int = 0
    repeat_count: int = 0
    ticket_type: str | None = None
    result_masked: str | None = None
    closed_at: datetime | None = None
    time_limit_days: float | None = None
    company: str | None = None

    @property
    def inquiry(self) -> bool:
        """A 咨询 asks for information: counted, but it forms no clue alone."""
        return self.ticket_type == "inquiry"


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
TICKET_TYPES = {
    "request": ("request", "诉求", "求决", "反映"),
    "complaint": ("complaint", "投诉"),
    "suggestion": ("suggestion", "建议", "意见建议"),
    "help": ("help", "求助"),
    "report": ("report", "举报"),
    "praise": ("praise", "表扬", "感谢"),
    "inquiry": ("inquiry", "咨询", "查询"),
}


def _vocabulary(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {word.lower(): key for key, words in table.items() for word in words}


_STATUS, _SATISFACTION, _TICKET_TYPES = _vocabulary(STATUS), _vocabulary(SATISFACTION), _vocabulary(TICKET_TYPES)


def vocabulary_value(value: str | None, table: dict[str, str]) -> str | None:
    """Onto the fixed vocabulary; "other" for a word we do not know (counted, not lost: the text is in the report)."""
    if value is None:
        return None
    return table.get(value.strip().lower(), "other")


class Normalizer:
    """Everything normalization needs that comes from configuration: taxonomy, gazetteer, classifier."""

    def __init__(self, *, taxonomy: Taxonomy, gazetteer: Gazetteer, classifier: CategoryClassifier | None,
                 citizen_secret: bytes, min_confidence: float = 0.5, screening: Screening | None = None, processes: int = 0) -> None:
        self.taxonomy = taxonomy
        self.gazetteer = gazetteer
        self.classifier = classifier
        self.citizen_secret = citizen_secret
        self.min_confidence = min_confidence
        self.screening = screening or Screening()
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._local_state()

    def _local_state(self) -> None:
        self._t2s = threading.local()
        self._short_text = functools.lru_cache(maxsize=65_536)(self._fold)

    def __getstate__(self) -> dict[str, Any]:
        """What a helper process needs: the configuration, not this process's pool, caches or converters."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_t2s", "_short_text", "_pool", "_pool_lock")} | {"processes": 0}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _pool=None, _pool_lock=threading.Lock())
        self._local_state()

    def records(self, raw: list[dict[str, Any]]) -> list[tuple[NormalizedWorkOrder, bytes]]:
        """Validate and normalize a chunk's records, each with the MinHash of its masked text (MinHasher.pack).

        A chunk of POOL_MIN_RECORDS or more is cut into parts: one normalized here, the others in the helper
        processes at the same time. A helper that died (killed, out of memory) costs that chunk nothing but time:
        its parts are normalized here and the pool is made again for the next chunk.
        """
        if self.processes < 1 or len(raw) < POOL_MIN_RECORDS:
            return _normalize_part(self, raw)
        size = -(-len(raw) // (self.processes + 1))
        parts = [raw[i:i + size] for i in range(0, len(raw), size)]
        pool = self._helpers()
        futures = [pool.submit(_normalize_in_helper, part) for part in parts[1:]]
        results = [_normalize_part(self, parts[0])]
        for part, future in zip(parts[1:], futures):
            try:
                results.append(future.result())
            except BrokenProcessPool:
                log.warning("a normalization helper process died; its records are normalized in this process")
                self._discard_pool(pool)
                results.append(_normalize_part(self, part))
        return [item for result in results for item in result]

    def _helpers(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # spawn, not fork: this process runs threads (workers, the event loop) that a fork would copy mid-step.
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_helper, initargs=(pickle.dumps(self),))
            return self._pool

    def _discard_pool(self, pool: ProcessPoolExecutor) -> None:
        with self._pool_lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the helper processes (the gateway's close calls this)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def simplified(self, text: str | None) -> str | None:
        if not text:
            return text
        converter = getattr(self._t2s, "converter", None)
        if converter is None:
            import opencc

            converter = self._t2s.converter = opencc.OpenCC("t2s")
        return converter.convert(text)

    def text(self, value: str | None) -> str | None:
        if value is not None and len(value) <= 64:
            return self._short_text(value)  # districts, streets, units, category levels: the same few thousand again and again
        return self.simplified(clean(value))

    def _fold(self, value: str) -> str | None:
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
            likes=record.likes or 0,
            repeat_count=record.repeat_count or 0,
            ticket_type=vocabulary_value(clean(record.ticket_type), _TICKET_TYPES),
            result_masked=mask_text(self.text(record.result) or "", [caller_name]) or None,
            closed_at=record.closed_at,
            time_limit_days=record.time_limit_days,
            company=self.text(record.company),
        )

    def routable_category(self, n: NormalizedWorkOrder) -> list[str]:
        """The category routing may use: an inferred one only when the classifier was sure enough."""
        if n.category_inferred and (n.category_confidence or 0) < self.min_confidence:
            return []
        return n.category


POOL_MIN_RECORDS = 1000  # below, handing records to another process costs more than it saves
_HELPER: Normalizer | None = None  # in a helper process: its own copy of the gateway's normalizer


def _start_helper(pickled: bytes) -> None:
    global _HELPER
    _HELPER = pickle.loads(pickled)


def _normalize_in_helper(raw: list[dict[str, Any]]) -> list[tuple[NormalizedWorkOrder, bytes]]:
    assert _HELPER is not None, "a helper process without its normalizer"
    return _normalize_part(_HELPER, raw)


def _normalize_part(normalizer: Normalizer, raw: list[dict[str, Any]]) -> list[tuple[NormalizedWorkOrder, bytes]]:
    normalized = [normalizer.record(record) for record in _RECORDS.validate_python(raw)]
    packed = list(zip(normalized, HASHER.pack([n.content_masked for n in normalized])))
    settle_once()  # the first part here loaded the masker's dictionary and the models: out of the collector's way (heap.py)
    return packed


_FIELDS = ("received_at", "channel", "category", "category_inferred", "category_confidence", "district", "street",
           "community", "address", "content_masked", "caller_masked", "handling_unit", "flags", "excluded_reason", "likes", "repeat_count",
           "ticket_type", "time_limit_days", "company")
_CHUNK = 2000  # tickets per IN (…) look-up: under every database's parameter limit


def _row(n: NormalizedWorkOrder, issued_at: datetime, *, keep_status: bool, caller_key: str | None) -> dict[str, Any]:
    row = {field: getattr(n, field) for field in _FIELDS}
    row["caller_key"] = n.caller_key or caller_key
    row["updated_at"] = utcnow()
    if not keep_status:
        # The latest status wins by the issue time of the report that carried it.
        row.update(status=n.status, satisfaction=n.satisfaction, result_masked=n.result_masked, closed_at=n.closed_at, status_issued_at=issued_at)
    return row


@dataclass
class NormalizeSummary:
    records: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    unmapped: int = 0
    inferred: int = 0


def handle_normalize_report(report_pk: int, uow: UnitOfWork, *, normalizer: Normalizer, keep_raw: bool, assign: bool, seq: int = 0,
                            outbox_id: int | None = None) -> NormalizeSummary:
    """Normalize one chunk of a report: upsert one work order per ticket, record its appearance. Idempotent.

    The chunk that completes the report moves it on to routing. Then, with `assign`, in transactions of their own,
    the chunks whose turn has come are put into issues (gateway.pipeline.assign; without it, routing does).
    """
    started = time.perf_counter()
    with uow:
        summary = NormalizeSummary()
        chunk = uow.session.scalar(select(ReportChunk).where(ReportChunk.report_pk == report_pk, ReportChunk.seq == seq))
        report = uow.session.get(Report, report_pk)
        if report is None or chunk is None or chunk.normalized_at is not None:
            uow.mark_done(outbox_id)
            uow.commit()
            return summary
        issued_at = report.issued_at or report.received_at
        # The same ticket twice in one report counts once; its last text wins.
        latest: dict[str, NormalizedWorkOrder] = {}
        minhash: dict[str, bytes] = {}  # the near-duplicate signature of each text (issue assignment, the ordered part, only reads it)
        first_index: dict[str, int] = {}
        last_index: dict[str, int] = {}
        unmapped = inferred = 0
        for index, (n, packed) in enumerate(normalizer.records(chunk.records or []), start=chunk.first_index):
            minhash[n.ticket_no] = packed
            unmapped += bool(n.category_unmapped)
            inferred += n.category_inferred
            latest[n.ticket_no] = n
            first_index.setdefault(n.ticket_no, index)
            last_index[n.ticket_no] = index
        table, appearances_table = WorkOrder.__table__, ReportWorkOrder.__table__
        connection = uow.session.connection()
        tickets = list(latest)
        known: dict[str, tuple[int, datetime | None, str | None]] = {}
        for i in range(0, len(tickets), _CHUNK):
            rows = connection.execute(
                select(table.c.ticket_no, table.c.id, table.c.status_issued_at, table.c.caller_key).where(table.c.ticket_no.in_(tickets[i:i + _CHUNK]))
            )
            known.update({t: (pk, at, key) for t, pk, at, key in rows})
        # Which known ones appeared before, here (an earlier chunk of this report) or in other reports.
        here: dict[int, tuple[int, int, int]] = {}  # work order -> (appearance id, index of the text it holds, its first index)
        elsewhere: set[int] = set()
        known_ids = [pk for pk, _, _ in known.values()]
        for i in range(0, len(known_ids), _CHUNK):
            for appearance, work_order_pk, other_report, content_index, record_index in connection.execute(
                select(appearances_table.c.id, appearances_table.c.work_order_pk, appearances_table.c.report_pk, appearances_table.c.content_index,
                       appearances_table.c.record_index)
                .where(appearances_table.c.work_order_pk.in_(known_ids[i:i + _CHUNK]))
            ):
                if other_report == report.id:
                    here[work_order_pk] = (appearance, content_index, record_index)
                else:
                    elsewhere.add(work_order_pk)
        # A ticket an earlier-indexed record of this report already wrote: only a later record's text replaces it
        # (chunks may be normalized in any order by several workers).
        stale = {t for t, (pk, _, _) in known.items() if pk in here and last_index[t] < here[pk][1]}
        new = [t for t in tickets if t not in known]
        ids_by_ticket: dict[str, int] = {}
        if new:
            now = utcnow()
            ids = insert_returning_ids(connection, table, [
                {**_row(latest[t], issued_at, keep_status=False, caller_key=None), "ticket_no": t, "first_seen_at": now}
                for t in new])
            ids_by_ticket = dict(zip(new, ids))
        # A row that keeps its status (a newer report set it) has fewer columns than one that takes this report's: one
        # update per set of columns (a single executemany takes the first row's columns for all of them).
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for t, (pk, at, key) in known.items():
            if t not in stale:
                row = {"id": pk, **_row(latest[t], issued_at, keep_status=at is not None and issued_at < at, caller_key=key)}
                updates.setdefault(tuple(row), []).append(row)
        for rows in updates.values():
            update_rows(connection, table, rows)
        ids_by_ticket.update({t: pk for t, (pk, _, _) in known.items()})
        # Its appearance holds the index of the text kept (the last) and of the ticket's first record, whichever chunk came first:
        # routing takes work orders in the order of their first records, so the outcome does not depend on that.
        update_rows(connection, appearances_table, [
            {"id": here[pk][0], "content_index": max(here[pk][1], last_index[t]), "record_index": min(here[pk][2], first_index[t])}
            for t, (pk, _, _) in known.items() if pk in here and (t not in stale or first_index[t] < here[pk][2])])
        appearances = []
        for t in tickets:
            pk = ids_by_ticket[t]
            if pk in here:
                continue  # already counted by an earlier chunk of this report
            n = latest[t]
            seen_before = pk in elsewhere
            summary.records += 1
            summary.duplicates += seen_before
            if n.excluded_reason:
                summary.excluded[n.excluded_reason] = summary.excluded.get(n.excluded_reason, 0) + 1
            appearances.append({"report_pk": report.id, "work_order_pk": pk, "record_index": first_index[t], "content_index": last_index[t],
                                "seen_before": seen_before, "excluded_reason": n.excluded_reason, "clue_pk": None})
        insert_rows(connection, appearances_table, appearances)
        # What issue assignment needs of this chunk's tickets, as this chunk has them (gateway.pipeline.assign): in the order
        # of their first records here, those that may go to consultation and that no later chunk has again.
        later = set(chunk.repeated_later or ())
        chunk.signatures = pack_signatures([
            (ids_by_ticket[t], n.street, n.community, list(n.category or []), n.received_at, minhash[t])
            for t in sorted(tickets, key=first_index.__getitem__) if first_index[t] not in later and not (n := latest[t]).excluded_reason])
        chunk.normalized_at = utcnow()
        if not keep_raw:
            chunk.records = None
        summary.unmapped, summary.inferred = unmapped, inferred
        # Lock the report: two workers finishing its last two chunks must not both miss the end. FOR NO KEY UPDATE:
        # the appearances' foreign keys hold KEY SHARE locks on it, which FOR UPDATE would wait for (two workers
        # normalizing chunks of one report deadlocked that way, and the loser's chunk waited for the retry).
        report = uow.session.get(Report, report_pk, with_for_update={"key_share": True}, populate_existing=True)
        assert report is not None
        report.chunks_normalized += 1
        report.categories_unmapped += unmapped
        report.categories_inferred += inferred
        if report.chunks_normalized >= report.chunk_count and report.state == "received":
            report.state = "normalized"
            report.normalized_at = utcnow()
            uow.emit(for_kind(ROUTE, report.kind), str(report.id), report_pk=report.id)
        report_id, kind = report.report_id, report.kind
        uow.mark_done(outbox_id)
        uow.commit()
    log.info("chunk %d normalized: %d work order(s) in %.2f s", seq, len(latest), time.perf_counter() - started, extra={"report_id": report_id})
    if assign and kind != "urgent":  # an urgent report's routing assigns its own, at once
        run_after_normalize(uow)
    return summary
