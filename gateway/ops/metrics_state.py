"""Gauges of state, read from the database when scraped.

They describe the deployment, not one process, so only the API process
(`gateway run` / `gateway api`) exports them; worker processes export their own
counters and histograms on their own port (docs/operations.md).
"""
from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.models import Clue, FeedbackPush, OutboxMessage, Packet, PacketClue, Report, SyncRun, utcnow
from gateway.delivery.notices import unacknowledged_overdue
from gateway.loop.table1 import loop_figures
from gateway.metrics import Metrics
from gateway.periods import SHANGHAI
from gateway.queues import STAGES

_STARTED = time.time()


def refresh(m: Metrics, read_session: sessionmaker[Session], *, chase_after_h: float, dead_letter_after: int,
            pull_source: str | None) -> None:
    """Set the gauges of state from the database (`pull_source`: the configured sync's name, None without one)."""
    now = utcnow()
    with read_session() as session:
        m.unacknowledged.set(unacknowledged_overdue(session, chase_after_h, now=now))
        figures = loop_figures(session, now.astimezone(SHANGHAI).date())
        m.triage_waiting.set(session.scalar(
            select(func.count(func.distinct(Clue.id))).join(PacketClue, PacketClue.clue_pk == Clue.id).join(Packet, Packet.id == PacketClue.packet_pk)
            .where(Clue.triage.is_(True), Packet.acknowledged_at.is_(None))) or 0)
        queues = {name: (0, None) for name in STAGES}
        for actor, count, oldest in session.execute(
            select(OutboxMessage.actor, func.count(), func.min(OutboxMessage.created_at)).where(OutboxMessage.done_at.is_(None)).group_by(OutboxMessage.actor)
        ):
            queues[actor] = (count, oldest)
        oldest_urgent = session.scalar(select(func.min(Report.received_at)).where(Report.kind == "urgent", Report.state != "delivered"))
        feedback = dict(session.execute(select(FeedbackPush.state, func.count()).where(FeedbackPush.state != "sent").group_by(FeedbackPush.state)).all())
        last_feedback = session.scalar(select(func.max(FeedbackPush.sent_at)))
        synced = dict(session.execute(select(SyncRun.source, func.max(SyncRun.finished_at)).where(SyncRun.state == "finished").group_by(SyncRun.source)).all())
        stuck = session.scalar(select(func.count()).select_from(Report).where(Report.state == "stuck")) or 0
        dead = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.done_at.is_(None), OutboxMessage.dispatch_count >= dead_letter_after)) or 0
    for state in ("due", "missing", "on_time", "late"):
        m.table1.labels(state).set(getattr(figures, f"table1_{state}"))
    m.supervision.labels("open").set(figures.supervision_open)
    m.supervision.labels("overdue").set(figures.supervision_overdue)
    for actor, (count, oldest) in queues.items():
        m.queue_depth.labels(actor).set(count)
        m.queue_age.labels(actor).set((now - oldest).total_seconds() if oldest is not None else 0)
    m.dead_letters.set(dead)
    m.stuck.set(stuck)
    m.urgent_waiting.set((now - oldest_urgent).total_seconds() if oldest_urgent is not None else 0)
    for state in ("pending", "failed"):
        m.feedback_documents.labels(state).set(feedback.get(state, 0))
    if last_feedback is not None:
        m.feedback_last_success.set(last_feedback.timestamp())
    if pull_source and pull_source not in synced:
        # Configured but never succeeded: count from this process's start, so a new install alerts 26 h later, not at once.
        m.sync_last_success.labels(pull_source).set(_STARTED)
    for source, finished in synced.items():
        m.sync_last_success.labels(source).set(finished.timestamp())
