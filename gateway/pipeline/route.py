"""Routing stage: clues from a normalized report, and one packet per committee."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update

from gateway.errors import TransientError
from gateway.pipeline.clues import group_into_topics, trend
from gateway.pipeline.orders import RoutedOrder
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.neardup import MinHasher, OrderText, assign_issues
from gateway.db.models import Clue, Delivery, Issue, Packet, PacketClue, Report, ReportWorkOrder, Topic, WorkOrder, utcnow
from gateway.pipeline.topics.discover import discover_topics
from gateway.periods import period_label
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.queues import DELIVER
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


HASHER = MinHasher()
ROUTE_ORDER_WAIT = timedelta(minutes=10)
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


def handle_route_report(report_pk: int, uow: UnitOfWork, *, routing: RoutingConfig, mail_domain: str,
                        min_confidence: float = 0.5, outbox_id: int | None = None, vocabulary: Sequence[str] = ()) -> RouteSummary:
    """Group the report's routable work orders into clues and prepare packets. Idempotent."""
    summary = RouteSummary()
    with uow:
        report = uow.session.get(Report, report_pk)
        if report is None or report.state != "normalized":
            uow.mark_done(outbox_id)
            uow.commit()
            return summary
        if report.kind != "urgent":
            # Reports are routed in the order they were received, so that near-duplicate issues (which depend on
            # what came before) come out the same whatever crashes or worker counts reordered the steps before.
            # Urgent reports do not wait; nor does anything wait more than ROUTE_ORDER_WAIT for a stuck report.
            earlier = uow.session.scalar(
                select(Report.report_id).where(Report.id < report.id, Report.kind != "urgent", Report.state.in_(("received", "normalized")),
                                               Report.received_at > utcnow() - ROUTE_ORDER_WAIT).order_by(Report.id).limit(1))
            if earlier is not None:
                raise TransientError(f"report {report.report_id} is routed after {earlier}, received before it; trying again shortly")
        wo, rwo = WorkOrder.__table__.c, ReportWorkOrder.__table__.c
        connection = uow.session.connection()
        orders: list[RoutedOrder] = []
        last = 0
        while True:  # a slice at a time, so that a report of any size streams through
            rows = connection.execute(
                select(wo.id, wo.ticket_no, wo.category, wo.category_inferred, wo.category_confidence, wo.street, wo.community,
                       wo.content_masked, wo.caller_key, wo.received_at, wo.issue_pk, wo.likes, wo.repeat_count, wo.district, wo.ticket_type, rwo.id.label("appearance"))
                .join(ReportWorkOrder.__table__, rwo.work_order_pk == wo.id)
                .where(rwo.report_pk == report.id, rwo.excluded_reason.is_(None), rwo.id > last)
                .order_by(rwo.id).limit(ROUTE_SLICE)
            ).all()
            if not rows:
                break
            last = rows[-1].appearance
            # Every work order that is not excluded gets its committee, whether or not it ends up in a clue.
            committees = []
            for row in rows:
                category = _routable(row.category, row.category_inferred, row.category_confidence, min_confidence)
                committees.append((category, routing.route(category, row.content_masked, row.street) if category or routing.rules else None))
            connection.execute(
                update(WorkOrder.__table__).where(wo.id == bindparam("_id")).values(committee_id=bindparam("_committee")),
                [{"_id": row.id, "_committee": committee or routing.triage} for row, (_, committee) in zip(rows, committees)],
            )
            newest_before = uow.session.scalar(select(func.max(Issue.id))) or 0
            issues = assign_issues(uow.session, [
                OrderText(row.id, row.content_masked, row.street, row.community, list(row.category or []), row.received_at, row.issue_pk) for row in rows
            ], HASHER)
            # A work order that joined an issue which existed before it, or that a fellow order founded, is a near duplicate.
            founded = {issue for issue in issues.values() if issue > newest_before}
            summary.near_duplicates += len(issues) - len(founded)
            for row, (category, committee) in zip(rows, committees):
                orders.append(RoutedOrder(
                    work_order_pk=row.id, ticket_no=row.ticket_no, category=category, street=row.street, community=row.community,
                    content_masked=row.content_masked, caller_key=row.caller_key, issue_pk=row.issue_pk or issues.get(row.id), committee_id=committee,
                    received_at=row.received_at, support=(row.likes or 0) + (row.repeat_count or 0), district=row.district,
                    inquiry=row.ticket_type == "inquiry",
                ))
        found = discover_topics(uow.session, orders, vocabulary=vocabulary)
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
            connection.execute(
                update(ReportWorkOrder.__table__)
                .where(rwo.report_pk == report.id, rwo.work_order_pk == bindparam("_work_order"))
                .values(clue_pk=bindparam("_clue")),
                [{"_work_order": pk, "_clue": clue.id} for pk in draft.work_order_pks],
            )
            by_committee.setdefault(clue.committee_id, []).append((clue, False))
            for other in clue.shared_with:  # the other committees concerned see it too, named as shared
                by_committee.setdefault(other, []).append((clue, True))
            kind_label = "triage" if clue.triage else clue.clue_type
            summary.clues[(clue.committee_id, kind_label)] = summary.clues.get((clue.committee_id, kind_label), 0) + 1
            if clue.clue_type == "proposal" and routing.proposal_copy and routing.proposal_copy not in (clue.committee_id, *clue.shared_with):
                by_committee.setdefault(routing.proposal_copy, []).append((clue, True))

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
            uow.emit(DELIVER, packet_id, packet_pk=packet.id)

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
        uow.mark_done(outbox_id)
        uow.commit()
    return summary
