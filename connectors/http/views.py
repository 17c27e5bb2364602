"""Views: read the request, check the signature, call one handler, answer."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.orm import Session

from connectors.http.multipart import parse_form
from contracts import ColumnMapping
from gateway.ops.health import readiness
from gateway.bootstrap import Gateway
from gateway.errors import Forbidden, PayloadTooLarge, RequestTimeout, Unauthorized, UnsupportedMediaType, ValidationFailed
from gateway.intake.preview import column_mapping, preview_file
from gateway.intake.report_files import SUFFIXES, report_from_file
from gateway.intake.receive import ReceiveReport, Received
from gateway.intake.group_commit import IntakeWriter
from gateway.nonces import claim
from gateway.signing import Verified, verify
from gateway.ops.status import clue_status, report_status, work_order_status

log = logging.getLogger(__name__)
T = TypeVar("T")
GATEWAY = web.AppKey("gateway", Gateway)
WRITER = web.AppKey("intake_writer", IntakeWriter)


async def in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, fn)


COMMAND_CENTER = frozenset({"command_center"})
READERS = frozenset({"command_center", "office"})
LOOP = frozenset({"workstation", "office"})
ROLE_NAMES = {"command_center": "command center", "workstation": "workstation", "office": "office"}


async def authenticate(request: web.Request, body: bytes, roles: frozenset[str], *, claim_nonce: bool = True) -> Verified:
    """Who signed (401 otherwise), whether that key's role may use this endpoint (403), and the replay check (401).

    The nonce (v2) or the signature of a state-changing v1 request is claimed in the
    shared store before the request is handled; a report push (claim_nonce=False)
    remembers it in the transaction that stores the report instead.
    """
    gw = request.app[GATEWAY]
    verified = verify(request.headers, body, gw.clients, window_s=gw.settings.signature_window_s, method=request.method,
                      target=request.raw_path, accept_v1=gw.settings.accept_signature_v1)
    gw.metrics.signatures.labels(str(verified.version)).inc()
    role = gw.clients[verified.client_id].role or "command_center"
    if role not in roles:
        allowed = " or ".join(ROLE_NAMES[r] for r in sorted(roles))
        raise Forbidden(f"{request.method} {request.path} is for {allowed} keys; key {verified.client_id!r} is a {ROLE_NAMES[role]} key")
    if claim_nonce and verified.replay_key is not None:
        replay_key = verified.replay_key
        await in_thread(lambda: claim(gw.uow.session_factory, replay_key))
    return verified


def own_client(request: web.Request, verified: Verified) -> str | None:
    """Whose records this key may read: its own (command center), or everyone's (None: the office)."""
    return None if request.app[GATEWAY].clients[verified.client_id].role == "office" else verified.client_id


async def _read_body(request: web.Request) -> bytes:
    limit = request.app[GATEWAY].settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is {request.content_length} bytes; the limit is {limit}: split the report or upload it as a file")
    timeout = request.app[GATEWAY].settings.body_timeout_s
    try:
        # A body that trickles in (slowloris) must not hold a connection and its memory for ever. asyncio.timeout, not
        # wait_for: no task made per request (wait_for's was 3 % of a push's CPU in the intake benchmark).
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(f"the body did not arrive within {timeout:g} s; send it again on a faster connection") from None


def parse_json(body: bytes) -> Any:
    """The body as JSON, or a 422 that says what is wrong with it."""
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"the body is not UTF-8 text (byte {exc.start}); send JSON in UTF-8", errors=[{"loc": ["body"], "msg": "not UTF-8"}]
        ) from exc
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"the body is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            errors=[{"loc": ["body"], "msg": exc.msg}],
        ) from exc
    except RecursionError:
        raise ValidationFailed("the JSON is nested too deep; a report is at most a few levels deep",
                               errors=[{"loc": ["body"], "msg": "nested too deep"}]) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ValidationFailed(f"the JSON holds a value no report has ({exc})", errors=[{"loc": ["body"], "msg": "value out of range"}]) from None


def json_response(data: BaseModel | dict[str, Any], status: int = 200) -> web.Response:
    text = data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data, ensure_ascii=False, default=str)
    return web.Response(status=status, text=text, content_type="application/json", charset="utf-8")


def _query(request: web.Request, allowed: frozenset[str] = frozenset()) -> None:
    # A misspelt parameter (partail=true) silently ignored would surprise the client later.
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        raise ValidationFailed(
            f"unknown query parameter(s): {', '.join(unknown)}" + (f"; allowed: {', '.join(sorted(allowed))}" if allowed else ""),
            errors=[{"loc": ["query", name], "msg": "unknown parameter"} for name in unknown],
        )


def _switches(request: web.Request, *names: str) -> dict[str, bool]:
    """Boolean query parameters (?partial=true, ?dry_run=true), false when absent; any other parameter is refused."""
    _query(request, frozenset(names))
    switches = {}
    for name in names:
        value = request.query.get(name, "false").lower()
        if value not in ("true", "false", "1", "0"):
            raise ValidationFailed(f"query parameter {name} must be true or false", errors=[{"loc": ["query", name], "msg": "not a boolean"}])
        switches[name] = value in ("true", "1")
    return switches


async def _receive(request: web.Request, cmd: ReceiveReport, started: float, *, columns: ColumnMapping | None = None) -> web.Response:
    gw = request.app[GATEWAY]
    result: Received = await request.app[WRITER].submit(cmd)
    receipt = result.receipt if columns is None else result.receipt.model_copy(update={"columns": columns})
    if result.created:
        gw.metrics.intake_seconds.observe(time.perf_counter() - started)
        kind = cmd.data.get("kind", "unknown") if isinstance(cmd.data, dict) else "unknown"
        gw.metrics.reports.labels(cmd.client_id, str(kind)).inc()
        gw.metrics.records.labels("stored").inc(receipt.records)
        gw.metrics.records.labels("rejected").inc(len(receipt.rejected))
        log.info("report received", extra={"report_id": receipt.report_id, "ticket_count": receipt.records, "client": cmd.client_id})
    else:
        gw.metrics.records.labels("duplicate_report").inc(receipt.records)
    return json_response(receipt, status=202 if result.created else 200)


async def _signed_body(request: web.Request, content_type: str, advice: str, roles: frozenset[str], *,
                       claim_nonce: bool = True) -> tuple[bytes, Verified]:
    """Content type first (415), then the size (413, before reading), then the signature over the raw body (401) and the role (403)."""
    if request.content_type != content_type:
        raise UnsupportedMediaType(f"{advice} (got {request.content_type or 'none'})")
    body = await _read_body(request)
    return body, await authenticate(request, body, roles, claim_nonce=claim_nonce)


async def post_report(request: web.Request) -> web.Response:
    started = time.perf_counter()
    body, verified = await _signed_body(request, "application/json", "send the report as application/json; charset=utf-8; files go to /api/v1/reports/upload",
                                        COMMAND_CENTER, claim_nonce=False)
    data = parse_json(body)
    cmd = ReceiveReport(client_id=verified.client_id, data=data, signature=verified.replay_key, partial=_switches(request, "partial")["partial"], source="push")
    return await _receive(request, cmd, started)


async def upload_report(request: web.Request) -> web.Response:
    started = time.perf_counter()
    body, verified = await _signed_body(request, "multipart/form-data", "upload a file as multipart/form-data", COMMAND_CENTER, claim_nonce=False)
    fields, files = parse_form(request.headers["Content-Type"], body)
    upload = files.get("file")
    if upload is None:
        raise ValidationFailed("the form has no file: send it in the field named file", errors=[{"loc": ["file"], "msg": "missing"}])
    if not upload.filename.lower().endswith(SUFFIXES):
        raise UnsupportedMediaType(f"{upload.filename!r}: upload .xlsx, .csv (UTF-8 or GB18030), .jsonl or .json")

    gw = request.app[GATEWAY]
    switches = _switches(request, "partial", "dry_run")
    if switches["dry_run"]:
        # What the upload would store, read as it would be; nothing is stored (and the signature is not remembered).
        preview = await in_thread(lambda: preview_file(upload.content, upload.filename, gw.normalizer, gw.config.columns))
        return json_response(preview.document())

    def build() -> tuple[dict[str, Any], list[int] | None, ColumnMapping | None]:
        data, rows = report_from_file(
            upload.content, upload.filename, kind=fields.get("kind"), report_id=fields.get("report_id"),
            period_start=fields.get("period_start") or None, period_end=fields.get("period_end") or None, title=fields.get("title") or None,
            columns=gw.config.columns,
        )
        # How the columns were read, for the receipt (a .json file is a whole report, without columns).
        columns = None if rows is None else column_mapping(upload.content, upload.filename, gw.config.columns)
        return data, rows, columns

    data, rows, columns = await in_thread(build)
    cmd = ReceiveReport(client_id=verified.client_id, data=data, signature=verified.replay_key, partial=switches["partial"], source="upload", row_numbers=rows)
    return await _receive(request, cmd, started, columns=columns)


async def _signed_read(request: web.Request, load: Callable[[Session, str | None], BaseModel]) -> web.Response:
    """A signed GET by a command center (its own records) or the office (all): verify, refuse a query it does not take, read, answer JSON."""
    gw = request.app[GATEWAY]
    verified = await authenticate(request, await _read_body(request), READERS)
    _query(request)
    client = own_client(request, verified)

    def run() -> BaseModel:
        with gw.uow.read_session() as session:
            return load(session, client)

    return json_response(await in_thread(run))


async def get_report(request: web.Request) -> web.Response:
    routing, report_id = request.app[GATEWAY].routing, request.match_info["report_id"]
    return await _signed_read(request, lambda session, client: report_status(session, client, report_id, routing))


async def get_work_order(request: web.Request) -> web.Response:
    routing, ticket_no = request.app[GATEWAY].routing, request.match_info["ticket_no"]
    return await _signed_read(request, lambda session, client: work_order_status(session, client, ticket_no, routing))


async def get_clue(request: web.Request) -> web.Response:
    routing, clue_id = request.app[GATEWAY].routing, request.match_info["clue_id"]
    return await _signed_read(request, lambda session, client: clue_status(session, client, clue_id, routing))


async def healthz(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]

    def check() -> str:
        with gw.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return "ok"

    try:
        database = await in_thread(check)
    except Exception as exc:  # a health check answers; it does not raise (and tells the anonymous nothing of the database)
        log.warning("healthz: the database does not answer: %s", exc)
        return json_response({"status": "failing", "database": str(exc) if trusted(request) else "not answering"}, status=503)
    return json_response({"status": "ok", "database": database, "broker": "embedded" if gw.embedded else "external"})


def trusted(request: web.Request) -> bool:
    """May this caller see the internals (metric labels with key ids, hosts, error texts)?

    With GATEWAY_METRICS_TOKEN set: only with `Authorization: Bearer <token>`. Without it:
    only from this host (127.0.0.1, ::1); behind a proxy on the same host, set the token.
    """
    token = request.app[GATEWAY].settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode("utf-8", "replace"), f"Bearer {token}".encode())
    return request.remote in ("127.0.0.1", "::1")


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database (with the expected schema), the broker and the mail server can be used; else 503 with the reasons."""
    gw = request.app[GATEWAY]
    checks = await in_thread(lambda: readiness(gw.probes(), cache_key=id(gw)))
    ready = all(c.ok for c in checks.values())
    # The anonymous learn whether each dependency is usable, not where it is or what it answered.
    detail = trusted(request)
    body = {"status": "ready" if ready else "not ready",
            "checks": {name: {"ok": c.ok, **({"detail": c.detail} if detail else {})} for name, c in checks.items()}}
    return json_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    if not trusted(request):
        raise Unauthorized("the metrics are for the operators' Prometheus: send Authorization: Bearer <GATEWAY_METRICS_TOKEN>")

    def from_database() -> None:
        # State, not events: read from the database at scrape time (docs/operations.md).
        gw.refresh_gauges()

    try:
        await in_thread(from_database)
    except Exception:  # the database is away: the rest of the metrics still answer
        log.warning("metrics: could not read the database-backed gauges", exc_info=True)
    return web.Response(body=gw.metrics.exposition(), content_type="text/plain", charset="utf-8")
