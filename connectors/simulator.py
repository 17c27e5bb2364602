"""A command-center simulator: serves the pull API, accepts feedback, and injects faults on request.

Used by the pull tests, the demo and operators rehearsing an integration. Faults
are a plan, one per request to the pull API, consumed in order:

    500, 502, 503   a server error
    429             too many requests, with Retry-After: 1
    401, 400        a permanent refusal
    slow            answer only after `slow_s` seconds (longer than the client waits)
    truncate        a 200 whose JSON is cut off half way
    duplicate       the page again with the previous page's reports in front (re-delivery)
    drop            close the connection without an answer

POST /_sim/faults {"plan": ["503", "truncate", …], "slow_s": 5} sets the plan;
GET /_sim/state tells what was served. Neither is signed: the simulator is a test tool.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pydantic import ValidationError

from contracts.feedback import FeedbackDocument
from gateway.errors import Unauthorized
from gateway.settings import ClientKey
from gateway.signing import verify


@dataclass
class SimulatorState:
    reports: list[dict[str, Any]]
    keys: dict[str, ClientKey]
    plan: list[str] = field(default_factory=list)
    slow_s: float = 5.0
    requests: int = 0
    faults_served: list[str] = field(default_factory=list)
    pages_served: int = 0
    feedback: dict[str, dict[str, Any]] = field(default_factory=dict)
    feedback_requests: int = 0
    seen: set[str] = field(default_factory=set)  # replay keys of the requests accepted
    signatures: list[int] = field(default_factory=list)  # the signature version of each accepted request
    feedback_log: list[tuple[str | None, str]] = field(default_factory=list)  # (Idempotency-Key, fault or "ok") per request


STATE = web.AppKey("simulator", SimulatorState)


def _cursor(index: int) -> str:
    return f"c{index}"


def _index(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.startswith("c") or not cursor[1:].isdigit():
        raise web.HTTPBadRequest(text=json.dumps({"title": "bad cursor", "status": 400}), content_type="application/problem+json")
    return int(cursor[1:])


def _check_signature(request: web.Request, body: bytes, state: SimulatorState) -> None:
    try:
        verified = verify(request.headers, body, state.keys, window_s=300, method=request.method, target=request.raw_path)
        if verified.replay_key is not None:  # as the contract asks of a command center too: a nonce or a v1 POST once
            if verified.replay_key in state.seen:
                raise Unauthorized("this signature was already used (replay); sign every request afresh")
            state.seen.add(verified.replay_key)
        state.signatures.append(verified.version)
    except Unauthorized as exc:
        raise web.HTTPUnauthorized(text=json.dumps({"title": "Unauthorized", "status": 401, "detail": exc.detail}), content_type="application/problem+json") from exc


def _next_fault(state: SimulatorState) -> str | None:
    fault = state.plan.pop(0) if state.plan else None
    if fault:
        state.faults_served.append(fault)
    return fault


async def _injected(request: web.Request, state: SimulatorState, fault: str | None) -> web.StreamResponse | None:
    """The answer an injected fault gives instead of the real one (None: go on; "slow" waits first, then goes on)."""
    if fault in ("500", "502", "503", "408"):
        return web.json_response({"title": "injected", "status": int(fault)}, status=int(fault))
    if fault == "429":
        return web.json_response({"title": "slow down", "status": 429}, status=429, headers={"Retry-After": "1"})
    if fault in ("400", "401", "422"):
        return web.json_response({"title": "refused", "status": int(fault), "detail": "injected permanent refusal"}, status=int(fault))
    if fault == "slow":
        await asyncio.sleep(state.slow_s)
    if fault == "drop":
        assert request.transport is not None
        request.transport.close()
        return web.Response()  # never reaches the client
    return None


async def list_reports(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    state.requests += 1
    _check_signature(request, await request.read(), state)
    fault = _next_fault(state)
    answer = await _injected(request, state, fault)
    if answer is not None:
        return answer
    start = _index(request.query.get("since"))
    limit = max(1, min(int(request.query.get("limit", "100")), 1000))
    end = min(start + limit, len(state.reports))
    first = max(0, start - limit) if fault == "duplicate" else start
    items = state.reports[first:end]
    next_cursor = _cursor(end) if end < len(state.reports) else None
    state.pages_served += 1
    body = json.dumps({"items": items, "next_cursor": next_cursor}, ensure_ascii=False)
    if fault == "truncate":
        body = body[: max(1, len(body) // 2)]
    return web.Response(text=body, content_type="application/json", charset="utf-8")


async def receive_feedback(request: web.Request) -> web.Response:
    """Stores the document under its Idempotency-Key; the same fault plan as the pull API applies."""
    state = request.app[STATE]
    state.feedback_requests += 1
    body = await request.read()
    _check_signature(request, body, state)
    key = request.headers.get("Idempotency-Key")
    fault = _next_fault(state)
    state.feedback_log.append((key, fault or "ok"))
    answer = await _injected(request, state, fault)
    if answer is not None:
        return answer
    if not key:
        return web.json_response({"title": "Idempotency-Key required", "status": 400}, status=400)
    try:
        FeedbackDocument.model_validate_json(body)
    except ValidationError as exc:  # as a command center that checks the contract would answer
        return web.json_response({"title": "not a feedback document", "status": 422, "errors": exc.errors(include_url=False)}, status=422)
    if fault == "lost_answer":  # stored, but the answer never arrives: the retry must not make a second document
        state.feedback[key] = json.loads(body)
        assert request.transport is not None
        request.transport.close()
        return web.Response()
    state.feedback[key] = json.loads(body)
    return web.json_response({"accepted": key}, status=200)


async def set_faults(request: web.Request) -> web.Response:
    state = request.app[STATE]
    data = await request.json()
    state.plan = [str(f) for f in data.get("plan", [])]
    state.slow_s = float(data.get("slow_s", state.slow_s))
    return web.json_response({"plan": state.plan})


async def get_state(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({
        "reports": len(state.reports), "requests": state.requests, "pages_served": state.pages_served,
        "faults_served": state.faults_served, "plan": state.plan, "feedback": sorted(state.feedback),
    })


def create_simulator(reports: list[dict[str, Any]], keys: dict[str, ClientKey]) -> web.Application:
    app = web.Application()
    app[STATE] = SimulatorState(reports=reports, keys=keys)
    app.router.add_get("/api/v1/reports", list_reports)
    app.router.add_post("/api/v1/feedback", receive_feedback)
    app.router.add_post("/_sim/faults", set_faults)
    app.router.add_get("/_sim/state", get_state)
    return app
