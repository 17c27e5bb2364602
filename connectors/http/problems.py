"""RFC 9457 problem+json for every error, mapped in one middleware."""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from contracts import Problem
from gateway.errors import GatewayError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem_response(status: int, title: str, detail: str | None, *, type_: str = "about:blank",
                     errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> web.Response:
    body = Problem(type=type_, title=title, status=status, detail=detail, errors=errors).model_dump(exclude_none=True)
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False), content_type=PROBLEM_JSON, charset="utf-8", headers=headers)


def make_middleware(on_rejected: Callable[[int], None]) -> Any:
    @web.middleware
    async def problems(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        try:
            return await handler(request)
        except GatewayError as exc:
            on_rejected(exc.status)
            return problem_response(exc.status, exc.title, exc.detail, type_=exc.type, errors=exc.errors)
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
