"""The monthly feedback to the command center (INTEGRATION.md section 3): made once per content, pushed until it lands.

A month's document is stored before it is pushed, with a revision and an
Idempotency-Key `feedback-{month}-r{revision}`; a retry, a crash and a
`gateway feedback resend` all push the same bytes under the same key. Only a
document whose content changed gets a new revision (and so a new key).
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contracts.feedback import FeedbackDocument
from gateway.db.models import FeedbackPush, utcnow
from gateway.errors import CommandCenterRefused, CommandCenterUnavailable, NotFound
from gateway.loop.table2 import content_hash, feedback_document
from gateway.metrics import Metrics
from gateway.ports import CommandCenter

log = logging.getLogger(__name__)


@dataclass
class Feedback:
    """What pushing the feedback needs: the database, the command center (a client not yet opened) and the counters."""

    sessions: sessionmaker[Session]
    center: CommandCenter
    metrics: Metrics


@dataclass(frozen=True)
class PushResult:
    push_id: int
    idempotency_key: str
    state: str
    attempts: int
    status: int | None
    error: str | None
    new_revision: bool


def prepare(feedback: Feedback, month: str) -> tuple[int, bool]:
    """The month's document stored as a push (a new revision only if its content changed); returns its id and whether it is new."""
    with feedback.sessions() as session:
        document = feedback_document(session, month)
        digest = content_hash(document)
        last = session.scalar(select(FeedbackPush).where(FeedbackPush.month == document["month"]).order_by(FeedbackPush.revision.desc()).limit(1))
        if last is not None and last.content_hash == digest:
            return last.id, False
        revision = (last.revision if last else 0) + 1
        key = f"feedback-{document['month']}-r{revision}"
        # The contract's model, not our dict, decides what goes out: a field that drifts fails here, before anything is stored.
        wire = FeedbackDocument.model_validate({**document, "revision": revision, "generated_at": utcnow()}).model_dump(mode="json")
        push = FeedbackPush(month=document["month"], revision=revision, idempotency_key=key, content_hash=digest, state="pending", document=wire)
        session.add(push)
        session.commit()
        return push.id, True


def push(feedback: Feedback, push_id: int) -> PushResult:
    """Push one stored document now, with retries; records every attempt's outcome on the row."""
    with feedback.sessions() as session:
        row = session.get(FeedbackPush, push_id)
        if row is None:
            raise NotFound(f"no feedback push {push_id}")
        body = json.dumps(row.document, ensure_ascii=False, sort_keys=True).encode("utf-8")
        key = row.idempotency_key
    center = feedback.center
    before = center.attempts

    def retrying(reason: str) -> None:
        feedback.metrics.feedback.labels("retry").inc()
        log.warning("feedback %s: attempt %d: %s", key, center.attempts - before, reason)

    async def run() -> int:
        async with center:
            return await center.push_feedback(body, key, on_retry=retrying)

    status: int | None = None
    error: str | None = None
    try:
        status = asyncio.run(run())
        state = "sent"
    except CommandCenterRefused as exc:
        state, status, error = "failed", exc.status_code, exc.detail
        log.error("feedback %s refused for good: %s; fix it, then `gateway feedback resend %s`", key, exc.detail, key)
    except CommandCenterUnavailable as exc:
        state, status = "pending", exc.status_code
        error = f"gave up for now after {center.attempts - before} attempt(s): {exc.detail}"
        log.error("feedback %s not delivered: %s; it is tried again at the next sweep", key, error)
    attempts = center.attempts - before
    with feedback.sessions() as session:
        row = session.get(FeedbackPush, push_id)
        assert row is not None
        row.attempts += attempts
        row.state, row.last_status, row.last_error = state, status, error
        if state == "sent":
            row.sent_at = utcnow()
        session.commit()
        result = PushResult(row.id, row.idempotency_key, row.state, row.attempts, status, error, False)
    feedback.metrics.feedback.labels({"sent": "sent", "failed": "failed"}.get(state, "gave_up")).inc()
    return result  # the time of the last success is read from feedback_pushes when scraped


def push_month(feedback: Feedback, month: str) -> PushResult:
    push_id, new = prepare(feedback, month)
    with feedback.sessions() as session:
        row = session.get(FeedbackPush, push_id)
        assert row is not None
        if row.state == "sent" and not new:
            return PushResult(row.id, row.idempotency_key, "sent", row.attempts, row.last_status, None, False)
    result = push(feedback, push_id)
    return PushResult(result.push_id, result.idempotency_key, result.state, result.attempts, result.status, result.error, new)


def resend(feedback: Feedback, ident: str) -> PushResult:
    """`gateway feedback resend ID`: ID is the push's number or its Idempotency-Key; same document, same key."""
    with feedback.sessions() as session:
        row = session.scalar(select(FeedbackPush).where(FeedbackPush.idempotency_key == ident)) if not ident.isdigit() else session.get(FeedbackPush, int(ident))
        if row is None:
            raise NotFound(f"no feedback push {ident!r}; `gateway feedback list` shows them")
        push_id = row.id
    return push(feedback, push_id)


def retry_pending(feedback: Feedback) -> int:
    """The sweep: documents stored but not yet landed (transient failures) are pushed again; failed ones wait for an operator."""
    with feedback.sessions() as session:
        ids = list(session.scalars(select(FeedbackPush.id).where(FeedbackPush.state == "pending", FeedbackPush.attempts > 0)))
    return sum(push(feedback, i).state == "sent" for i in ids)

