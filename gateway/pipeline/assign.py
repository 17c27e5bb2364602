"""Issue assignment chunk by chunk, as a report's chunks are normalized: the ordered part of routing, started early.

Which issue a work order joins depends on every work order assigned before it, so assignment runs in one order:
the reports (urgent ones aside) in the order they were received, each report's chunks in their order, each chunk's
work orders in the order of their first records. Not all of it has to wait for the report's last chunk: after each
chunk commits, its worker runs the assignment drain, which assigns, ASSIGN_BATCH chunks at a time, every batch whose
turn has come (all earlier chunks assigned) and stops at the first one still being normalized. With several workers,
one report's assignment then runs beside the normalization of its later chunks; routing, which starts by assigning
what is left of its report, is left with topics, clues and packets. (Settings: `assign_early`, on with PostgreSQL.)

The outcome does not depend on when the drain runs, how many chunks it takes at once (neardup.assign_issues gives
the same issues for orders put in one call or several in turn), or which worker normalized which chunk first: each chunk
carries, from its own normalization, what assignment needs of its work orders (`signatures`: the MinHash, street,
community, category and time of each ticket's text in that chunk). A ticket that a later chunk of the same report
has again is left out of the earlier chunks' signatures (the importer marks it: `report_chunks.repeated_later`),
so that it is assigned with the last chunk that has it, by the text that is kept, whether or not that chunk was
normalized first.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.db.engine import transaction_lock
from gateway.db.models import IssueAssignment, Report, ReportChunk, WorkOrder, utcnow
from gateway.db.rows import insert_rows, one_of
from gateway.pipeline.heap import full_collections_paused
from gateway.pipeline.neardup import HASHER, OrderText, assign_counted
from gateway.uow import UnitOfWork

log = logging.getLogger(__name__)

# An earlier report received longer ago than this and still not normalized holds neither assignment nor routing
# (a stuck one is set aside, with its reason, well before: gateway reports list --stuck).
ROUTE_ORDER_WAIT = timedelta(minutes=10)
ASSIGN_LOCK = 0x6761_7465_7761_7a  # one assignment drain at a time (PostgreSQL advisory lock; SQLite: its one writer)
# Chunks assigned together (20,000 records): one chunk at a time read the same bands and candidate issues four times
# as often, and a 100,000-record report's assignment took 7.9 s instead of 4.3 s (docs/benchmarks.md).
ASSIGN_BATCH = 4


def pack_signatures(orders: list[tuple[int, str | None, str | None, list[str], datetime, bytes]]) -> bytes:
    """A chunk's `signatures`: for each work order (id, street, community, category, received_at, MinHasher.pack), in order.

    One JSON line of the fields, then the packed signatures end to end (b"" for a text without letters: length 0).
    """
    head = [[pk, street, community, category, at.isoformat(), len(packed)] for pk, street, community, category, at, packed in orders]
    return json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" + b"".join(o[5] for o in orders)


def unpack_signatures(blob: bytes) -> list[OrderText]:
    """pack_signatures read back, as what assign_issues takes (issue_pk is the caller's to fill in)."""
    line, _, packed = blob.partition(b"\n")
    orders, offset = [], 0
    for pk, street, community, category, at, size in json.loads(line):
        orders.append(OrderText(pk, "", street, community, category, datetime.fromisoformat(at), None, packed[offset:offset + size]))
        offset += size
    if offset != len(packed):
        raise ValueError(f"a chunk's signatures hold {len(packed)} bytes of MinHash where its list names {offset}")
    return orders


def assign_chunks(session: Session, report: Report, chunks: list[ReportChunk]) -> None:
    """Put the work orders of these consecutive chunks of the report that have no issue into issues, in their order.

    In one call of assign_issues, not one per chunk: its band look-ups and candidate issues are read once for all.
    """
    orders = [o for chunk in chunks if chunk.signatures for o in unpack_signatures(chunk.signatures)]
    if orders:
        issue_of = issues_of(session, [o.id for o in orders])
        for order in orders:
            order.issue_pk = issue_of.get(order.id)
        issues, near = assign_counted(session, orders, HASHER)
        insert_rows(session.connection(), IssueAssignment.__table__, [{"work_order_pk": pk, "issue_pk": issue} for pk, issue in issues.items()])
        report.near_duplicates += near
    for chunk in chunks:
        chunk.signatures = None
    report.chunks_assigned += len(chunks)


def issues_of(session: Session, work_order_pks: list[int]) -> dict[int, int | None]:
    """Each work order's issue: its own, or the one assignment gave it and routing has not yet written (issue_assignments)."""
    wo, ia = WorkOrder.__table__.c, IssueAssignment.__table__.c
    dialect = session.get_bind().dialect.name
    found: dict[int, int | None] = {}
    for i in range(0, len(work_order_pks), 2000):  # under every database's parameter limit
        found.update(session.execute(select(wo.id, func.coalesce(wo.issue_pk, ia.issue_pk))
                                     .select_from(WorkOrder.__table__.outerjoin(IssueAssignment.__table__, ia.work_order_pk == wo.id))
                                     .where(one_of(wo.id, work_order_pks[i:i + 2000], dialect))).all())
    return found


def assign_report(session: Session, report: Report, *, lock: bool = True) -> None:
    """Assign the rest of a normalized report's chunks, in order (routing calls this first, in its transaction).

    `lock=False` for an urgent report, whose routing does not wait for anyone's (its issues are not in the order).
    """
    if lock:
        transaction_lock(session, ASSIGN_LOCK)
        session.refresh(report)  # a drain may have assigned a chunk while this transaction waited for the lock
    while report.chunks_assigned < report.chunk_count:
        chunks = _chunks(session, report, report.chunk_count - report.chunks_assigned)
        if not chunks:
            break
        assign_chunks(session, report, chunks)


@full_collections_paused()  # the work orders it reads are freed by reference counting; a full collection walks the whole heap
def assign_ready(uow: UnitOfWork) -> int:
    """The assignment drain: every batch of chunks whose turn has come, one transaction each. Returns how many chunks.

    Run after a chunk is normalized. A drain already running elsewhere (or routing, which holds the same lock) will
    take the chunk or leave it to routing: this one then stops at once instead of waiting.
    """
    done = 0
    while True:
        with uow:
            if not transaction_lock(uow.session, ASSIGN_LOCK, wait=False):
                uow.commit()
                return done
            found = _next_batch(uow.session)
            if found is None:
                uow.commit()
                return done
            report, chunks = found
            assign_chunks(uow.session, report, chunks)
            uow.commit()
            done += len(chunks)


def _next_batch(session: Session) -> tuple[Report, list[ReportChunk]] | None:
    """The next ASSIGN_BATCH chunks in assignment order, or the last ones of their report, if normalized; else None.

    A report received more than ROUTE_ORDER_WAIT ago whose next chunks are still not normalized does not hold the
    others, as in routing (gateway.pipeline.route._next_in_order).
    """
    after = 0
    while True:
        report = session.scalar(select(Report).where(Report.id > after, Report.kind != "urgent", Report.state.in_(("received", "normalized")),
                                                     Report.chunks_assigned < Report.chunk_count).order_by(Report.id).limit(1))
        if report is None:
            return None
        wanted = min(ASSIGN_BATCH, report.chunk_count - report.chunks_assigned)
        seqs = session.scalars(select(ReportChunk.seq).where(
            ReportChunk.report_pk == report.id, ReportChunk.seq >= report.chunks_assigned, ReportChunk.seq < report.chunks_assigned + wanted,
            ReportChunk.normalized_at.is_not(None))).all()
        if len(seqs) == wanted:
            return report, _chunks(session, report, wanted)
        if report.received_at > utcnow() - ROUTE_ORDER_WAIT:
            return None
        after = report.id


def _chunks(session: Session, report: Report, most: int) -> list[ReportChunk]:
    """The report's next chunks to assign, in order: ASSIGN_BATCH at most, `most` at most."""
    return list(session.scalars(select(ReportChunk).where(ReportChunk.report_pk == report.id, ReportChunk.seq >= report.chunks_assigned)
                                .order_by(ReportChunk.seq).limit(min(most, ASSIGN_BATCH))))


def run_after_normalize(uow: UnitOfWork) -> None:
    """assign_ready after a chunk, without failing the chunk: what it leaves undone, routing does (assign_report)."""
    try:
        assigned = assign_ready(uow)
    except Exception:  # the chunk is committed; an assignment that failed here is redone, in the same order, by routing
        log.warning("issue assignment after a chunk failed; routing will assign those chunks", exc_info=True)
        return
    if assigned:
        log.debug("%d chunk(s) assigned to issues", assigned)

