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
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy import select
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from gateway.db.models import FeedbackPush, utcnow
from gateway.errors import ConfigError, NotFound, PermanentError, TransientError
from gateway.signing import signed_headers
from gateway.loop.table2 import content_hash, feedback_document

if TYPE_CHECKING:
    from gateway.bootstrap import Gateway

log = logging.getLogger(__name__)


class FeedbackRefused(PermanentError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the command center refused the feedback with {status}: {detail}")
        self.status_code = status


class FeedbackNotYet(TransientError):
    def __init__(self, detail: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.status_code = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class PushResult:
    push_id: int
    idempotency_key: str
    state: str
    attempts: int
    status: int | None
    error: str | None
    new_revision: bool


def prepare(gateway: "Gateway", month: str) -> tuple[int, bool]:
    """The month's document stored as a push (a new revision only if its content changed); returns its id and whether it is new."""
    with gateway.uow.session_factory() as session:
        document = feedback_document(session, month)
        digest = content_hash(document)
        last = session.scalar(select(FeedbackPush).where(FeedbackPush.month == document["month"]).order_by(FeedbackPush.revision.desc()).limit(1))
        if last is not None and last.content_hash == digest:
            return last.id, False
        revision = (last.revision if last else 0) + 1
        key = f"feedback-{document['month']}-r{revision}"
        push = FeedbackPush(month=document["month"], revision=revision, idempotency_key=key, content_hash=digest, state="pending",
                            document={**document, "revision": revision, "generated_at": utcnow().isoformat()})
        session.add(push)
        session.commit()
        return push.id, True


def _credentials(gateway: "Gateway") -> tuple[str, str, str]:
    s = gateway.settings
    url = s.feedback_url or s.pull_url
    key = s.feedback_key or s.pull_key
    if not url or not key or ":" not in key:
        raise ConfigError("the feedback push needs the command center's address and a key: set GATEWAY_FEEDBACK_URL and "
                          "GATEWAY_FEEDBACK_KEY=keyid:secret (or GATEWAY_PULL_URL and GATEWAY_PULL_KEY, used by default)")
    key_id, _, secret = key.partition(":")
    return url.rstrip("/"), key_id, secret


def _wait(backoff_s: float) -> Any:
    def wait(state: RetryCallState) -> float:
        base = min(60.0, backoff_s * 2 ** (state.attempt_number - 1))
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return max(random.uniform(0, base), retry_after or 0.0)
    return wait


async def _post_once(session: aiohttp.ClientSession, url: str, key_id: str, secret: str, body: bytes, key: str, timeout: aiohttp.ClientTimeout) -> int:
    headers = {**signed_headers(key_id, secret, body), "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
    try:
        async with session.post(f"{url}/api/v1/feedback", data=body, headers=headers, timeout=timeout) as response:
            text = await response.text()
            status = response.status
            retry_after = response.headers.get("Retry-After")
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        raise FeedbackNotYet(f"{type(exc).__name__}: {exc or 'no answer'}") from exc
    if status in (408, 429) or status >= 500:
        try:
            wait = float(retry_after) if retry_after else None
        except ValueError:
            wait = None
        raise FeedbackNotYet(f"the command center answered {status}", status=status, retry_after=wait)
    if status >= 400:
        raise FeedbackRefused(status, text[:300])
    return status


def push(gateway: "Gateway", push_id: int) -> PushResult:
    """Push one stored document now, with retries; records every attempt's outcome on the row."""
    url, key_id, secret = _credentials(gateway)
    s = gateway.settings
    with gateway.uow.session_factory() as session:
        row = session.get(FeedbackPush, push_id)
        if row is None:
            raise NotFound(f"no feedback push {push_id}")
        body = json.dumps(row.document, ensure_ascii=False, sort_keys=True).encode("utf-8")
        key = row.idempotency_key
    attempts = 0

    async def run() -> int:
        nonlocal attempts
        timeout = aiohttp.ClientTimeout(total=s.feedback_timeout_s)
        async with aiohttp.ClientSession() as http:
            async for attempt in AsyncRetrying(retry=retry_if_exception_type(FeedbackNotYet), stop=stop_after_attempt(s.feedback_max_attempts),
                                               wait=_wait(s.feedback_backoff_s), reraise=True):
                with attempt:
                    attempts += 1
                    try:
                        return await _post_once(http, url, key_id, secret, body, key, timeout)
                    except FeedbackNotYet as exc:
                        gateway.metrics.feedback.labels("retry").inc()
                        log.warning("feedback %s: attempt %d: %s", key, attempts, exc)
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    status: int | None = None
    error: str | None = None
    try:
        status = asyncio.run(run())
        state = "sent"
    except FeedbackRefused as exc:
        state, status, error = "failed", exc.status_code, exc.detail
        log.error("feedback %s refused for good: %s; fix it, then `gateway feedback resend %s`", key, exc.detail, key)
    except FeedbackNotYet as exc:
        state, status, error = "pending", exc.status_code, f"gave up for now after {attempts} attempt(s): {exc.detail}"
        log.error("feedback %s not delivered: %s; it is tried again at the next sweep", key, error)
    with gateway.uow.session_factory() as session:
        row = session.get(FeedbackPush, push_id)
        assert row is not None
        row.attempts += attempts
        row.state, row.last_status, row.last_error = state, status, error
        if state == "sent":
            row.sent_at = utcnow()
        session.commit()
        result = PushResult(row.id, row.idempotency_key, row.state, row.attempts, status, error, False)
    gateway.metrics.feedback.labels({"sent": "sent", "failed": "failed"}.get(state, "gave_up")).inc()
    return result  # the time of the last success is read from feedback_pushes when scraped


def push_month(gateway: "Gateway", month: str) -> PushResult:
    push_id, new = prepare(gateway, month)
    with gateway.uow.session_factory() as session:
        row = session.get(FeedbackPush, push_id)
        assert row is not None
        if row.state == "sent" and not new:
            return PushResult(row.id, row.idempotency_key, "sent", row.attempts, row.last_status, None, False)
    result = push(gateway, push_id)
    return PushResult(result.push_id, result.idempotency_key, result.state, result.attempts, result.status, result.error, new)


def resend(gateway: "Gateway", ident: str) -> PushResult:
    """`gateway feedback resend ID`: ID is the push's number or its Idempotency-Key; same document, same key."""
    with gateway.uow.session_factory() as session:
        row = session.scalar(select(FeedbackPush).where(FeedbackPush.idempotency_key == ident)) if not ident.isdigit() else session.get(FeedbackPush, int(ident))
        if row is None:
            raise NotFound(f"no feedback push {ident!r}; `gateway feedback list` shows them")
        push_id = row.id
    return push(gateway, push_id)


def retry_pending(gateway: "Gateway") -> int:
    """The sweep: documents stored but not yet landed (transient failures) are pushed again; failed ones wait for an operator."""
    with gateway.uow.session_factory() as session:
        ids = list(session.scalars(select(FeedbackPush.id).where(FeedbackPush.state == "pending", FeedbackPush.attempts > 0)))
    return sum(push(gateway, i).state == "sent" for i in ids)

