"""What every office page shares: rendering, error pages, security headers, the session key, the CSRF check, and the database
calls of a page or a form's action (`read`, `write`, `act`) run in a worker thread."""
from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from aiohttp import web
from aiohttp_session import get_session
from cryptography.fernet import Fernet
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from gateway.bootstrap import Gateway
from gateway.delivery.packet_email import template_environment
from gateway.errors import ConfigError, GatewayError
from gateway.office.accounts import ROLES, Viewer
from gateway.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
GATEWAY = web.AppKey("office_gateway", Gateway)
VIEWER = web.RequestKey("office_viewer", Viewer)
CSRF_TOKEN = web.RequestKey("office_csrf", str)
COOKIE = "gateway_office"
CSRF_FIELD = "_csrf"
# No script at all, nothing from elsewhere, never in a frame: the pages need none of it.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_ERROR_TITLES = {400: "请求有误", 403: "无权访问", 404: "页面不存在", 405: "请求方式有误", 413: "提交内容过大", 422: "填写有误",
                 429: "操作过于频繁", 503: "系统暂时无法访问"}
_env = None


def templates() -> Any:
    global _env
    if _env is None:  # made at first use, not at import
        _env = template_environment()
    return _env


async def in_thread(fn: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, fn)


async def read(request: web.Request, fn: Callable[[Session], T]) -> T:
    """What a page shows: fn(session) with a read-only session, in a worker thread (the database calls block)."""
    return await _in_session(request.app[GATEWAY].uow.read_session, fn)


async def write(request: web.Request, fn: Callable[[Session], T]) -> T:
    """A change: fn(session) in a worker thread; fn commits (the office's functions do, with their audit row)."""
    return await _in_session(request.app[GATEWAY].uow.session_factory, fn)


async def _in_session(open_session: Callable[[], AbstractContextManager[Session]], fn: Callable[[Session], T]) -> T:
    def run() -> T:
        with open_session() as s:
            return fn(s)

    return await in_thread(run)


async def act(request: web.Request, fn: Callable[[Session], object], done: str) -> NoReturn:
    """A form's action: `write(request, fn)`, then 303 to the page that says it is done (post, redirect, get)."""
    await write(request, fn)
    raise web.HTTPSeeOther(done)


def session_key(settings: Settings) -> bytes:
    """GATEWAY_SESSION_KEY, or the key in <data_dir>/session.key, made (readable by the gateway's user only) on first use."""
    if settings.session_key:
        key = settings.session_key.encode("ascii", "replace")
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError("GATEWAY_SESSION_KEY is not a Fernet key (32 bytes in url-safe base64, 44 characters); make one with: "
                              "python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'") from None
        return key
    path = Path(settings.data_dir) / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise ConfigError(f"{path} does not hold a session key; delete it (every office user then logs in again) or set GATEWAY_SESSION_KEY") from None
    return key


def page(request: web.Request, template: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> web.Response:
    """A page of the office, rendered with the user, the CSRF token and the page's own values."""
    viewer = context.setdefault("viewer", request.get(VIEWER))
    context.setdefault("csrf", request.get(CSRF_TOKEN, ""))
    context.setdefault("title", "登录")
    context.setdefault("nav", "inbox")
    context.setdefault("roles", ROLES)
    if viewer is not None and viewer.committee_id and "scope_name" not in context:
        try:
            context["scope_name"] = request.app[GATEWAY].routing.committee(viewer.committee_id).short
        except KeyError:
            context["scope_name"] = viewer.committee_id
    text = templates().get_template(f"office/{template}").render(csrf_field=CSRF_FIELD, **context)
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8", headers=headers)


def error_page(request: web.Request, status: int, detail: str, *, headers: dict[str, str] | None = None) -> web.Response:
    return page(request, "error.html.j2", status=status, headers=headers, title=_ERROR_TITLES.get(status, "出错了"), detail=detail)


_GENERIC = {404: "您访问的页面不存在。", 405: "请通过页面上的按钮操作。", 413: "提交的内容过大。", 400: "请求格式有误，请返回上一页重试。"}


@web.middleware
async def errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        response = await handler(request)
    except GatewayError as exc:
        response = error_page(request, exc.status, exc.detail)
    except web.HTTPException as exc:
        if exc.status < 400:
            exc.headers.update(HEADERS)
            raise
        response = error_page(request, exc.status, _GENERIC.get(exc.status, "请求未能完成，请返回上一页重试。"))
    except (OperationalError, InterfaceError, DisconnectionError) as exc:
        log.warning("office: database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__)
        response = error_page(request, 503, "系统暂时无法连接数据库，请稍后再试。", headers={"Retry-After": "5"})
    except Exception:
        log.exception("office: unhandled error on %s %s", request.method, request.path)
        response = error_page(request, 500, "系统处理出错，已记录，请稍后再试或联系系统管理员。")
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@web.middleware
async def csrf(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Every page gets the session's token for its forms; every POST must bring it back (the login form too)."""
    session = await get_session(request)
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    request[CSRF_TOKEN] = token
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        given = form.get(CSRF_FIELD)
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), token.encode()):
            raise web.HTTPForbidden(text="csrf")  # rendered by `errors` as the page below
    return await handler(request)


@web.middleware
async def csrf_refused(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    # Inside the session, outside the check: a refused POST still keeps (or gets) its session's token, so a reload works.
    try:
        return await handler(request)
    except web.HTTPForbidden as exc:
        if exc.text != "csrf":
            raise
        return error_page(request, 403, "页面已失效（缺少或不符的安全校验码）。请返回，刷新页面后重新提交。")
