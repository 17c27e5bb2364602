"""The HTTP API (aiohttp): translate requests into handler calls and errors into problem+json."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from aiohttp import web

from contracts import Problem
from gateway.bootstrap import Gateway
from gateway.errors import GatewayError, PayloadTooLarge, UnsupportedMediaType
from gateway.intake import ReceiveReport, handle_receive_report
from gateway.signing import Verified, verify
from gateway.status import report_status, work_order_status

log = logging.getLogger(__name__)
GATEWAY = web.AppKey("gateway", Gateway)
T = TypeVar("T")
PROBLEM_JSON = "application/problem+json"


def problem_response(status: int, title: str, detail: str | None, *, type_: str = "about:blank", errors: list[dict[str, Any]] | None = None) -> web.Response:
    body = Problem(type=type_, title=title, status=status, detail=detail, errors=errors).model_dump(exclude_none=True)
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False), content_type=PROBLEM_JSON, charset="utf-8")


@web.middleware
async def problems(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Every error leaves as RFC 9457 problem+json, mapped here and nowhere else."""
    try:
        return await handler(request)
    except GatewayError as exc:
        request.app[GATEWAY].metrics.requests_rejected.labels(str(exc.status)).inc()
        return problem_response(exc.status, exc.title, exc.detail, type_=exc.type, errors=exc.errors)
    except web.HTTPRequestEntityTooLarge as exc:
        return problem_response(413, "Payload too large", exc.text, type_="/problems/payload-too-large")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(exc.status, exc.reason, exc.text)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "Internal error", "the gateway failed on this request; it is logged. Retry later.")


async def _in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, fn)


def _verify(request: web.Request, body: bytes) -> Verified:
    gw = request.app[GATEWAY]
    return verify(request.headers, body, gw.clients, window_s=gw.settings.signature_window_s)


async def _read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is {request.content_length} bytes; the limit is {limit}: split the report")
    return await request.read()


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(data, ensure_ascii=False, default=str), content_type="application/json", charset="utf-8")


async def post_report(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    started = time.perf_counter()
    if request.content_type != "application/json":
        raise UnsupportedMediaType(f"send the report as application/json; charset=utf-8 (got {request.content_type or 'none'})")
    body = await _read_body(request, gw.settings.max_body_bytes)
    verified = _verify(request, body)
    partial_flag = request.query.get("partial", "").lower() in ("1", "true", "yes")
    cmd = ReceiveReport(client_id=verified.client_id, body=body, signature=verified.signature, partial=partial_flag)
    result = await _in_thread(partial(handle_receive_report, cmd, gw.uow()))
    receipt = result.receipt
    if result.created:
        gw.metrics.intake_seconds.observe(time.perf_counter() - started)
        kind = json.loads(body).get("kind", "unknown")
        gw.metrics.reports.labels(verified.client_id, kind).inc()
        gw.metrics.records.labels("stored").inc(receipt.records)
        gw.metrics.records.labels("rejected").inc(len(receipt.rejected))
    return _json(receipt.model_dump(mode="json"), status=202 if result.created else 200)


async def get_report(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    verified = _verify(request, await request.read())
    report_id = request.match_info["report_id"]

    def load() -> dict[str, Any]:
        with gw.uow.session_factory() as session:
            return report_status(session, verified.client_id, report_id, gw.routing)

    return _json(await _in_thread(load))


async def get_work_order(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    _verify(request, await request.read())
    ticket_no = request.match_info["ticket_no"]

    def load() -> dict[str, Any]:
        with gw.uow.session_factory() as session:
            return work_order_status(session, ticket_no, gw.routing)

    return _json(await _in_thread(load))


async def healthz(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]

    def check() -> str:
        with gw.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return "ok"

    try:
        database = await _in_thread(check)
    except Exception as exc:  # report, do not raise: a health check must answer
        return _json({"status": "failing", "database": str(exc)}, status=503)
    return _json({"status": "ok", "database": database, "broker": "embedded" if gw.embedded else "external"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[GATEWAY].metrics.exposition(), content_type="text/plain", charset="utf-8")


def create_app(gateway: Gateway) -> web.Application:
    app = web.Application(middlewares=[problems], client_max_size=gateway.settings.max_body_bytes)
    app[GATEWAY] = gateway
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/v1/reports", post_report)
    app.router.add_get("/api/v1/reports/{report_id}", get_report)
    app.router.add_get("/api/v1/work-orders/{ticket_no}", get_work_order)
    return app
