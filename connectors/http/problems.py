"""RFC 9457 problem+json for every error, mapped in one middleware."""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from contracts import Problem
from gateway.errors import GatewayError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem_response(status: int, title: str, detail: str | None, *, type_: str = "about:blank",
                     errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> web.Response:
    body = Problem(type=type_, title=title, status=status, detail=detail, errors=errors).model_dump(exclude_none=True)
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False), content_type=PROBLEM_JSON, charset="utf-8", headers=headers)


RETRY_AFTER_S = 5


def make_middleware(on_rejected: Callable[[int], None]) -> Any:
    @web.middleware
    async def problems(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        try:
            return await handler(request)
        except GatewayError as exc:
            on_rejected(exc.status)
            headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.status == 503 else None
            return problem_response(exc.status, exc.title, exc.detail, type_=exc.type, errors=exc.errors, headers=headers)
        except (OperationalError, InterfaceError, DisconnectionError) as exc:
            # The database (or the broker behind the writer) is away: nothing was accepted, so the client may retry.
            log.warning("dependency unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
            on_rejected(503)
            return problem_response(503, "Temporarily unavailable",
                                    "the gateway cannot reach its database right now; nothing was stored. Retry after the time in Retry-After.",
                                    type_="/problems/unavailable", headers={"Retry-After": str(RETRY_AFTER_S)})
        except web.HTTPRequestEntityTooLarge as exc:
            on_rejected(413)
            return problem_response(413, "Payload too large", exc.text, type_="/problems/payload-too-large")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            on_rejected(exc.status)
            keep = {k: v for k, v in exc.headers.items() if k.lower() in ("allow",)}
            return problem_response(exc.status, exc.reason, exc.text, headers=keep)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            on_rejected(500)
            return problem_response(500, "Internal error", "the gateway failed on this request; it is logged. Retry later.")

    return problems
