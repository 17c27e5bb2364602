"""What the office publishes without login (/public/): 协商成果公示, masked, naming nobody (docs/office.md).

A sub-application of its own: no session, no cookie, nothing to post; the same security headers as the office's pages.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.bootstrap import Gateway
from gateway.office.results import published_results
from gateway.office.web import GATEWAY, HEADERS, in_thread, templates


@web.middleware
async def _headers(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            exc.headers.update(HEADERS)
            raise
        response = web.Response(status=exc.status, text="页面不存在。" if exc.status == 404 else "请求未能完成。", content_type="text/plain", charset="utf-8")
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


async def results_page(request: web.Request) -> web.StreamResponse:
    gw = request.app[GATEWAY]

    def read():  # type: ignore[no-untyped-def]
        with gw.uow.read_session() as s:
            return published_results(s)

    text = templates().get_template("public/results.html.j2").render(results=await in_thread(read))
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def create_public_app(gateway: Gateway) -> web.Application:
    """The sub-application served under /public/."""
    app = web.Application(middlewares=[_headers])
    app[GATEWAY] = gateway
    app.router.add_get("/results", results_page)
    return app
