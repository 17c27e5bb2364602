"""Signing in and out of the office's pages, and who the request is from."""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import get_session, new_session

from gateway.office.accounts import FAILURE_WINDOW, active_user, log_in, log_out, viewer_of, Viewer
from gateway.office.web import GATEWAY, VIEWER, in_thread, page

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _next_path(value: object) -> str:
    """Where to go after login: a page of the office, never another site (an open redirect)."""
    text = value if isinstance(value, str) else ""
    return text if text.startswith("/office/") and not text.startswith("//") and "\\" not in text and "\n" not in text else "/office/"


async def current_viewer(request: web.Request) -> Viewer | None:
    """The session's user, if the login has not expired, the user is still active and did not log out since."""
    session = await get_session(request)
    uid, epoch, at = session.get("uid"), session.get("epoch"), session.get("login_at")
    if not isinstance(uid, int) or not isinstance(epoch, int) or not isinstance(at, (int, float)):
        return None
    gw = request.app[GATEWAY]
    if time.time() - at > gw.settings.session_hours * 3600:
        return None

    def load() -> Viewer | None:
        with gw.uow.read_session() as s:
            user = active_user(s, uid, epoch)
            return viewer_of(user) if user is not None else None

    return await in_thread(load)


def login_required(handler: Handler) -> Handler:
    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        viewer = await current_viewer(request)
        if viewer is None:
            if request.method == "GET":
                raise web.HTTPSeeOther(f"/office/login?next={quote(request.path_qs)}")
            return page(request, "login.html.j2", status=401, next="/office/", message="登录已过期，请重新登录。", username="")
        request[VIEWER] = viewer
        return await handler(request)

    return wrapped


async def login_form(request: web.Request) -> web.StreamResponse:
    if await current_viewer(request) is not None:
        raise web.HTTPSeeOther(_next_path(request.query.get("next")))
    return page(request, "login.html.j2", next=_next_path(request.query.get("next")), message="", username="")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _next_path(form.get("next"))
    gw = request.app[GATEWAY]

    def check():  # type: ignore[no-untyped-def]
        with gw.uow.session_factory() as s:
            result = log_in(s, username, password, address=request.remote)
            return result.throttled, (result.user.id, result.user.session_epoch) if result.user else None

    throttled, user = await in_thread(check)
    if throttled:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        return page(request, "login.html.j2", status=429, headers={"Retry-After": str(int(FAILURE_WINDOW.total_seconds()))}, next=target,
                    username=username, message=f"登录失败次数过多，已暂停登录。请{minutes}分钟后再试，或联系区政协办公室重置密码。")
    if user is None:
        return page(request, "login.html.j2", status=401, next=target, username=username, message="用户名或密码错误，请重新输入。")
    session = await new_session(request)  # a new session (and a new CSRF token) at login: nothing carried over from before
    session["uid"], session["epoch"], session["login_at"] = user[0], user[1], int(time.time())
    raise web.HTTPSeeOther(target)


@login_required
async def logout(request: web.Request) -> web.StreamResponse:
    gw = request.app[GATEWAY]
    viewer: Viewer = request[VIEWER]
    await in_thread(lambda: _log_out(gw, viewer.user_pk, request.remote))
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/office/login")


def _log_out(gw, user_pk: int, address: str | None) -> None:  # type: ignore[no-untyped-def]
    with gw.uow.session_factory() as s:
        log_out(s, user_pk, address=address)
