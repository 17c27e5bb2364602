"""Routing stage: clues from a normalized report, and one packet per committee."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from collections.abc import Callable, Sequence
from typing import Any
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from gateway.db.engine import transaction_lock
from gateway.db.rows import update_rows
from gateway.pipeline.clues import group_into_topics, trend
from gateway.pipeline.assign import ROUTE_ORDER_WAIT, assign_report
from gateway.pipeline.heap import full_collections_paused
from gateway.pipeline.orders import RoutedOrder, represents_its_issue
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.neardup import HASHER, OrderText, assign_counted
from gateway.db.models import Clue, Delivery, IssueAssignment, OutboxMessage, Packet, PacketClue, Report, ReportWorkOrder, Topic, WorkOrder, utcnow
from gateway.pipeline.stuck import is_transient, record_failure
from gateway.pipeline.topics.discover import discover_topics
from gateway.periods import period_label
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.queues import DELIVER, ROUTE, URGENT, for_kind
from gateway.uow import UnitOfWork

log = logging.getLogger(__name__)


def packet_subject(label: str, committee_short: str, clue_count: int, *, urgent: bool) -> str:
    head = "【线索包·急】" if urgent else "【线索包】"
    return f"{head}{label} · {committee_short} · {clue_count}条线索"


def message_id(packet_id: str, revision: int, domain: str) -> str:
    return f"<{packet_id}.r{revision}@{domain}>"


def _previous_counts(uow: UnitOfWork, report: Report, topic_pks: list[int]) -> tuple[int | None, dict[int, int]]:
    """Work orders per topic in the previous report of the same client and kind (for the trend and the growth)."""
    previous = uow.session.scalar(select(func.max(Report.id)).where(
        Report.client_id == report.client_id, Report.kind == report.kind, Report.id < report.id, Report.routed_at.is_not(None)))
    if previous is None or not topic_pks:
        return previous, {}
    wo, rwo = WorkOrder.__table__.c, ReportWorkOrder.__table__.c
    counts: dict[int, int] = {}
    for i in range(0, len(topic_pks), 2000):
        rows = uow.session.execute(
            select(wo.topic_pk, func.count()).join(ReportWorkOrder.__table__, rwo.work_order_pk == wo.id)
            .where(rwo.report_pk == previous, rwo.excluded_reason.is_(None), wo.topic_pk.in_(topic_pks[i:i + 2000])).group_by(wo.topic_pk))
        counts.update({pk: n for pk, n in rows})
    return previous, counts


ROUTE_SLICE = 20_000


def _routable(category: list[str] | None, inferred: bool, confidence: float | None, min_confidence: float) -> tuple[str, ...]:
    """An inferred category counts only when the classifier was sure enough; otherwise triage."""
    if inferred and (confidence or 0.0) < min_confidence:
        return ()
    return tuple(category or ())


@dataclass
class RouteSummary:
    """What one routing did, for the metrics."""

    kind: str = ""
    received_at: datetime | None = None
    routed_at: datetime | None = None
    delivered_at: datetime | None = None  # set when nothing needed sending
    near_duplicates: int = 0
    clues: dict[tuple[str, str], int] = field(default_factory=dict)  # (committee, type) -> count


def _narrative_clue(report: Report, routing: RoutingConfig, label: str) -> Clue:
    """The clue of an urgent report without work orders: its title and its summary (masked), for the office to assign."""
    text = mask_text(report.summary or "")
    title = mask_text(report.title or "") or text[:40] or "突发性重点问题"
    return Clue(
        clue_id=f"C{report.id:06d}-001", report_pk=report.id, committee_id=routing.triage, clue_type="public_opinion",
        reason="突发性重点问题，及时报送；报告未附工单明细，请办公室研究分办", score=0.0, triage=True, title=title[:300],
        category=[], work_order_count=0, citizen_count=0, issue_count=0, places=[], period_label=label, trend="本期新出现",
        samples=[text] if text else [], ticket_nos=[], workstations=[], keywords=[], named_places=[], rank=1, shared_with=[],
    )


@full_collections_paused()  # what routing makes it holds to the end: a full collection walks all of it (heap.py)
def handle_route_report(report_pk: int, uow: UnitOfWork, *, routing: RoutingConfig, mail_domain: str,
                        min_confidence: float = 0.5, outbox_id: int | None = None, vocabulary: Sequence[str] = (),
                        on_set_aside: Callable[[Report, str], None] | None = None, poison_after: int = 3) -> list[RouteSummary]:
    """Route a normalized report: an urgent one at once; the others as a drain. Idempotent.

    Reports other than urgent ones are routed in the order they were received, so that near-duplicate issues and
    topics (which depend on what came before) come out the same whatever crashes and worker counts reordered the
    steps before. Not by waiting: whichever route message runs takes the routing lock and routes every normalized
    report in arrival order, one transaction each, until none is left or an earlier report is still being
    normalized (its own route message goes on from there). A message whose report another drain routed is done.
    A report whose routing fails `poison_after` times (not for want of the database) is set aside (gateway.pipeline.stuck).
    """
    options = dict(routing=routing, mail_domain=mail_domain, min_confidence=min_confidence, vocabulary=vocabulary)
    with uow:
        report = uow.session.get(Report, report_pk)
        if report is not None and report.state == "normalized" and report.kind == "urgent":  # not behind a drain's lock
            summary = _route(report, uow, **options)  # type: ignore[arg-type]
            _routed(uow, report, outbox_id)
            uow.commit()
            return [summary]
        uow.commit()
    summaries = _drain(uow, options, on_set_aside, poison_after)
    with uow:
        state = uow.session.scalar(select(Report.state).where(Report.id == report_pk))
        if state != "normalized":  # routed (by this drain or another), set aside, or gone: a kick after a set-aside is done too
            uow.mark_done(outbox_id)
        # else an earlier report is still being normalized: its message routes this one; the sweep is the safety net
        uow.commit()
    return summaries


def _drain(uow: UnitOfWork, options: dict[str, Any], on_set_aside: Callable[[Report, str], None] | None,
           poison_after: int) -> list[RouteSummary]:
    summaries = []
    while True:
        pk = None
        try:
            with uow:
                transaction_lock(uow.session, ROUTING_LOCK)  # one drain at a time
                report = _next_in_order(uow.session)
                if report is None:
                    uow.commit()
                    return summaries
                pk = report.id
                summary = _route(report, uow, **options)
                _routed(uow, report, None)
                uow.commit()
                summaries.append(summary)
        except Exception as exc:
            if is_transient(exc) or pk is None:
                raise
            reason = f"routing failed: {type(exc).__name__}: {exc}"
            log.exception("report %s could not be routed", pk)
            set_aside = record_failure(uow, pk, reason, attempts=poison_after)
            if set_aside is None:
                raise  # retried by the queue; set aside at the last attempt
            if on_set_aside is not None:
                on_set_aside(set_aside, reason)


ROUTING_LOCK = 0x6761_7465_7761_79  # "gateway"


def _next_in_order(session: Session) -> Report | None:
    """The first normalized report (urgent ones aside) unless an earlier one is still being normalized.

    An earlier report received more than ROUTE_ORDER_WAIT ago and still not normalized does not hold the others
    (a stuck one is set aside, with its reason, well before: gateway reports list --stuck).
    """
    first = session.scalar(select(Report).where(Report.kind != "urgent", Report.state == "normalized").order_by(Report.id).limit(1))
    if first is None:
        return None
    waiting = session.scalar(select(Report.id).where(Report.id < first.id, Report.kind != "urgent", Report.state == "received",
                                                     Report.received_at > utcnow() - ROUTE_ORDER_WAIT).limit(1))
    return None if waiting is not None else first


def _routed(uow: UnitOfWork, report: Report, outbox_id: int | None) -> None:
    """The report's route messages (its own, and the one that ran the drain) are done with it."""
    uow.mark_done(outbox_id)
    uow.session.execute(update(OutboxMessage).where(OutboxMessage.actor.in_((ROUTE, URGENT[ROUTE])), OutboxMessage.dedup_key == str(report.id),
                                                    OutboxMessage.done_at.is_(None)).values(done_at=utcnow()))


def _route(report: Report, uow: UnitOfWork, *, routing: RoutingConfig, mail_domain: str, min_confidence: float,
           vocabulary: Sequence[str]) -> RouteSummary:
    """Group one normalized report's routable work orders into clues and prepare packets, in the caller's transaction."""
    summary = RouteSummary()
    # First what chunk-by-chunk assignment has not yet done of this report's issues, in the same order.
    assign_report(uow.session, report, lock=report.kind != "urgent")
    summary.near_duplicates = report.near_duplicates
    wo, rwo, assigned = WorkOrder.__table__.c, ReportWorkOrder.__table__.c, IssueAssignment.__table__.c
    connection = uow.session.connection()
    orders: list[RoutedOrder] = []
    issues_met: set[int] = set()  # the issues whose first work order's text is kept (represents_its_issue)
    # One object for each street, community, district and category the report names, not one per work order: at a
    # million orders, held to the end of routing, the copies were several hundred MB.
    shared: dict[Any, Any] = {}
    last = -1
    while True:  # a slice at a time, so that a report of any size streams through
        rows = connection.execute(
            select(wo.id, wo.ticket_no, wo.category, wo.category_inferred, wo.category_confidence, wo.street, wo.community,
                   wo.content_masked, wo.caller_key, wo.received_at, func.coalesce(wo.issue_pk, assigned.issue_pk).label("issue_pk"), wo.likes,
                   wo.repeat_count, wo.district, wo.ticket_type, rwo.record_index)
            .join(ReportWorkOrder.__table__, rwo.work_order_pk == wo.id)
            .outerjoin(IssueAssignment.__table__, assigned.work_order_pk == wo.id)
            .where(rwo.report_pk == report.id, rwo.excluded_reason.is_(None), rwo.record_index > last)
            .order_by(rwo.record_index).limit(ROUTE_SLICE)
        ).all()
        if not rows:
            break
        # In the order of the report's records, not of the rows' ids: which chunk a worker normalized first does not
        # change which work order founds an issue or a topic.
        last = rows[-1].record_index
        # Every work order that is not excluded gets its committee, whether or not it ends up in a clue.
        committees = []
        for row in rows:
            category = _routable(row.category, row.category_inferred, row.category_confidence, min_confidence)
            category = shared.setdefault(category, category)
            committees.append((category, routing.route(category, row.content_masked, row.street) if category or routing.rules else None))
        # Left without an issue by assignment: texts without letters (no issue here either), and the work orders of
        # reports normalized before chunks carried signatures (migration 0015).
        issues, near = assign_counted(uow.session, [
            OrderText(row.id, row.content_masked, row.street, row.community, list(row.category or []), row.received_at, row.issue_pk)
            for row in rows if row.issue_pk is None
        ], HASHER)
        summary.near_duplicates += near
        for row, (category, committee) in zip(rows, committees):
            issue = row.issue_pk or issues.get(row.id)
            # Of an issue's work orders only the first one's text is analysed and sampled (discover_topics, ClueDraft):
            # the others' are not kept (a million texts held to the end of a big month's routing).
            text = row.content_masked if represents_its_issue(issue, issues_met) else ""
            orders.append(RoutedOrder(
                work_order_pk=row.id, ticket_no=row.ticket_no, category=category, street=shared.setdefault(row.street, row.street),
                community=shared.setdefault(row.community, row.community), content_masked=text, caller_key=row.caller_key,
                issue_pk=issue, committee_id=committee, received_at=row.received_at,
                support=(row.likes or 0) + (row.repeat_count or 0), district=shared.setdefault(row.district, row.district),
                inquiry=row.ticket_type == "inquiry",
            ))
    found = discover_topics(uow.session, orders, vocabulary=vocabulary, write_orders=False)
    # What routing decided of each work order, in one statement: its committee, its issue and its topic.
    for start in range(0, len(orders), ROUTE_SLICE):
        update_rows(connection, WorkOrder.__table__, [
            {"id": o.work_order_pk, "committee_id": o.committee_id or routing.triage, "issue_pk": o.issue_pk, "topic_pk": topic}
            for o, topic in zip(orders[start:start + ROUTE_SLICE], found.topic_of[start:start + ROUTE_SLICE])])
    # Written to the work orders now: what assignment kept aside for them (gateway.pipeline.assign) is done with.
    connection.execute(delete(IssueAssignment.__table__).where(assigned.work_order_pk.in_(
        select(rwo.work_order_pk).where(rwo.report_pk == report.id))))
    drafts = group_into_topics(found.orders, found.topic_of, routing, keywords=found.keywords)
    previous_report, previous_counts = _previous_counts(uow, report, sorted(drafts))
    urgent = report.kind == "urgent"
    label = period_label(report.kind, report.period_start, report.issued_at)
    by_committee: dict[str, list[tuple[Clue, bool]]] = {}
    chosen = []
    for topic_pk, draft in drafts.items():
        draft.topic_pk = topic_pk
        # A topic this report founded is new; one known before but absent from the previous report had 0 there.
        previous = previous_counts.get(topic_pk, 0) if previous_report is not None and topic_pk not in found.founded else None
        kind = draft.classify(routing, urgent=urgent, previous=previous)
        if kind is None:
            continue  # below the thresholds: routed, counted in the packet's summary, not a clue
        chosen.append((draft.score(previous), draft, kind, previous))
    chosen.sort(key=lambda c: (-c[0], -c[1].count, c[1].topic_pk))
    titles = {}
    clue_of: list[tuple[int, int]] = []  # (work order, clue) for each work order of the report that went into a clue
    for seq, (score, draft, kind, previous) in enumerate(chosen, start=1):
        clue_type, reason = kind
        if draft.triage:
            reason = f"{reason}；无法按规则确定承办委室，请办公室研究分办"
        first, last_at = draft.span()
        title = titles[draft.topic_pk] = draft.title()
        clue = Clue(
            clue_id=f"C{report.id:06d}-{seq:03d}",
            topic_pk=draft.topic_pk, keywords=list(draft.keywords), named_places=draft.named_places(),
            first_received_at=first, last_received_at=last_at, likes=draft.support, rank=seq,
            shared_with=list(draft.shared_with),
            report_pk=report.id,
            committee_id=draft.committee_id,
            clue_type=clue_type,
            reason=reason,
            score=score,
            triage=draft.triage,
            title=title,
            category=list(draft.category),
            work_order_count=draft.count,
            citizen_count=draft.citizens(),
            issue_count=draft.issues(),
            places=draft.places(),
            period_label=label,
            trend=trend(draft.count, previous),
            samples=draft.samples(),
            ticket_nos=list(draft.ticket_nos),
            workstations=draft.workstations(routing),
        )
        uow.session.add(clue)
        uow.session.flush()
        clue_of.extend((pk, clue.id) for pk in draft.work_order_pks)
        by_committee.setdefault(clue.committee_id, []).append((clue, False))
        for other in clue.shared_with:  # the other committees concerned see it too, named as shared
            by_committee.setdefault(other, []).append((clue, True))
        kind_label = "triage" if clue.triage else clue.clue_type
        summary.clues[(clue.committee_id, kind_label)] = summary.clues.get((clue.committee_id, kind_label), 0) + 1
        if clue.clue_type == "proposal" and routing.proposal_copy and routing.proposal_copy not in (clue.committee_id, *clue.shared_with):
            by_committee.setdefault(routing.proposal_copy, []).append((clue, True))

    for start in range(0, len(clue_of), ROUTE_SLICE):
        update_rows(connection, ReportWorkOrder.__table__, [{"work_order_pk": pk, "clue_pk": clue} for pk, clue in clue_of[start:start + ROUTE_SLICE]],
                    keys=("work_order_pk",), where={"report_pk": report.id})

    narrative = urgent and not orders and report.record_count == 0
    if narrative:
        # A narrative-only urgent report (INTEGRATION.md: "one record or a narrative only") is one clue for the office.
        clue = _narrative_clue(report, routing, label)
        uow.session.add(clue)
        uow.session.flush()
        by_committee.setdefault(clue.committee_id, []).append((clue, False))
        summary.clues[(clue.committee_id, "triage")] = 1

    for committee_id, clues in by_committee.items():
        committee = routing.committee(committee_id)
        packet_id = f"P{report.id:06d}-{committee_id}"
        packet = Packet(
            packet_id=packet_id, report_pk=report.id, committee_id=committee_id, revision=1, urgent=urgent,
            subject=packet_subject(label, committee.short, len(clues), urgent=urgent), state="pending",
        )
        uow.session.add(packet)
        uow.session.flush()
        for position, (clue, copy) in enumerate(clues):
            uow.session.add(PacketClue(packet_pk=packet.id, clue_pk=clue.id, position=position, copy=copy))
        for recipient in committee.emails:
            uow.session.add(Delivery(packet_pk=packet.id, recipient=recipient, message_id=message_id(packet_id, 1, mail_domain)))
        uow.emit(for_kind(DELIVER, report.kind), packet_id, packet_pk=packet.id)

    if titles:
        uow.session.execute(update(Topic.__table__).where(Topic.__table__.c.id == bindparam("_id")).values(title=bindparam("_title")),
                            [{"_id": pk, "_title": t[:300]} for pk, t in titles.items()])
    seq = len(chosen) + narrative
    report.routed_at = utcnow()
    if by_committee:
        report.state = "routed"
    else:
        report.state = "delivered"
        report.delivered_at = report.routed_at
    log.info("report routed: %d clue(s), %d packet(s)", seq, len(by_committee), extra={"report_id": report.report_id})
    summary.kind, summary.received_at, summary.routed_at, summary.delivered_at = report.kind, report.received_at, report.routed_at, report.delivered_at
    return summary
