"""The command center's API, signed (INTEGRATION.md sections 2 and 3): one client for the pull and the feedback push.

Every call is retried on what passes (connection errors, timeouts, cut-off
JSON, 5xx, 408 and 429) with exponential backoff and full jitter, never sooner
than the server's Retry-After, and stops at once on what does not (any other
4xx). Implements `gateway.ports.CommandCenter`.
"""
from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
from yarl import URL
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from gateway.errors import CommandCenterRefused, CommandCenterUnavailable
from gateway.ports import Page
from gateway.signing import signed_headers

T = TypeVar("T")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class CommandCenterClient:
    """`async with CommandCenterClient(...) as center:` then `fetch_page` and `push_feedback`."""

    def __init__(self, base_url: str, key_id: str, secret: str, *, what: str, timeout_s: float = 30.0, max_attempts: int = 8,
                 backoff_s: float = 1.0, max_backoff_s: float = 60.0, signature: str = "v1") -> None:
        self.base_url = base_url.rstrip("/")
        self.signature = signature  # "v2" where the command center's configuration says it accepts it
        self.key_id, self.secret = key_id, secret
        self.what = what  # "pull" or "feedback": named in errors
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_attempts = max_attempts
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.attempts = 0
        self._session: aiohttp.ClientSession | None = None
        self._last_v1_second = 0

    async def __aenter__(self) -> "CommandCenterClient":
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _wait(self, state: RetryCallState) -> float:
        # Full jitter on an exponential base, but never sooner than the server's Retry-After.
        base = min(self.max_backoff_s, self.backoff_s * 2 ** (state.attempt_number - 1))
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return max(random.uniform(0, base), retry_after or 0.0)

    async def _retrying(self, once: Callable[[], Awaitable[T]], on_retry: Callable[[str], None] | None) -> T:
        async for attempt in AsyncRetrying(retry=retry_if_exception_type(CommandCenterUnavailable), stop=stop_after_attempt(self.max_attempts),
                                           wait=self._wait, reraise=True):
            with attempt:
                self.attempts += 1
                try:
                    return await once()
                except CommandCenterUnavailable as exc:
                    if on_retry is not None:
                        on_retry(exc.detail)
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, str]:
        """One signed request: its status and text, or the error that says whether trying again may help."""
        if self._session is None:
            raise RuntimeError("use the client as `async with CommandCenterClient(...) as center:`")
        url = URL(f"{self.base_url}{path}")
        if self.signature == "v2":
            signed = signed_headers(self.key_id, self.secret, body, method=method, target=url.raw_path_qs)
        else:
            # A v1 signature is the same for the same body within one second, and a state-changing v1 request seen
            # before is refused as a replay: never two v1 requests of this client in one second. (v2: a new nonce each time.)
            now = time.time()
            if int(now) <= self._last_v1_second:
                await asyncio.sleep(self._last_v1_second + 1 - now)
                now = time.time()
            self._last_v1_second = int(now)
            signed = signed_headers(self.key_id, self.secret, body, now=now)
        try:
            async with self._session.request(method, url, data=body or None, timeout=self.timeout, headers={**signed, **(headers or {})}) as response:
                text = await response.text()
                status, retry_after = response.status, _retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise CommandCenterUnavailable(f"{type(exc).__name__}: {exc or 'no answer'}") from exc
        if status in (408, 429) or status >= 500:
            raise CommandCenterUnavailable(f"the command center answered {status}", status=status, retry_after=retry_after)
        if status >= 400:
            raise CommandCenterRefused(self.what, status, text[:300])
        return status, text

    async def fetch_page(self, cursor: str | None, limit: int) -> Page:
        async def once() -> Page:
            query = {"limit": str(limit), **({"since": cursor} if cursor else {})}
            status, text = await self._request("GET", f"/api/v1/reports?{urlencode(query)}")
            try:
                data: Any = json.loads(text)
                items, next_cursor = data["items"], data.get("next_cursor")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CommandCenterUnavailable(f"the page is not complete JSON ({type(exc).__name__}); fetching it again") from exc
            if not isinstance(items, list) or not (next_cursor is None or isinstance(next_cursor, str)):
                raise CommandCenterRefused(self.what, status, "the page is not {items: [...], next_cursor: string|null}")
            return Page(items=items, next_cursor=next_cursor)

        return await self._retrying(once, None)

    async def push_feedback(self, body: bytes, idempotency_key: str, *, on_retry: Callable[[str], None] | None = None) -> int:
        async def once() -> int:
            status, _ = await self._request("POST", "/api/v1/feedback", body, {
                "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key})
            return status

        return await self._retrying(once, on_retry)
