"""The command center's pull API (INTEGRATION.md section 2), signed, with retries that know which failures pass."""
from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from gateway.errors import PermanentError, TransientError
from gateway.signing import signed_headers


class PermanentPullError(PermanentError):
    """The command center refused (a 4xx other than 408/429): retrying will not help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the command center refused the pull with {status}: {detail}")
        self.status_code = status


class TransientPullError(TransientError):
    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class PullClient:
    """Fetches pages; retries connection errors, timeouts, 5xx, 408, 429 and cut-off JSON with backoff and jitter."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, key_id: str, secret: str, *,
                 timeout_s: float = 30.0, max_attempts: int = 8, backoff_s: float = 1.0, max_backoff_s: float = 60.0) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.key_id, self.secret = key_id, secret
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_attempts = max_attempts
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.attempts = 0

    def _wait(self, state: RetryCallState) -> float:
        # Full jitter on an exponential base, but never sooner than the server's Retry-After.
        base = min(self.max_backoff_s, self.backoff_s * 2 ** (state.attempt_number - 1))
        wait = random.uniform(0, base)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return max(wait, retry_after) if retry_after is not None else wait

    async def _once(self, cursor: str | None, limit: int) -> Page:
        self.attempts += 1
        query = {"limit": str(limit), **({"since": cursor} if cursor else {})}
        url = f"{self.base_url}/api/v1/reports?{urlencode(query)}"
        try:
            async with self.session.get(url, headers=signed_headers(self.key_id, self.secret, b""), timeout=self.timeout) as response:
                text = await response.text()
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise TransientPullError(f"{type(exc).__name__}: {exc or 'no answer'}") from exc
        if status in (408, 429) or status >= 500:
            raise TransientPullError(f"the command center answered {status}", retry_after=retry_after)
        if status >= 400:
            raise PermanentPullError(status, text[:300])
        try:
            data = json.loads(text)
            items, next_cursor = data["items"], data.get("next_cursor")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise TransientPullError(f"the page is not complete JSON ({type(exc).__name__}); fetching it again") from exc
        if not isinstance(items, list) or not (next_cursor is None or isinstance(next_cursor, str)):
            raise PermanentPullError(status, "the page is not {items: [...], next_cursor: string|null}")
        return Page(items=items, next_cursor=next_cursor)

    async def fetch(self, cursor: str | None, limit: int) -> Page:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientPullError),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._once(cursor, limit)
        raise AssertionError("unreachable")  # pragma: no cover
