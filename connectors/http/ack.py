"""The acknowledgement page a committee reaches from a packet email.

GET shows the packet and a button; only the POST records the receipt, because
mail security scanners open every link in an email (a GET must change nothing).
"""
from __future__ import annotations

from aiohttp import web

from connectors.http.views import GATEWAY, in_thread
from gateway.delivery.acknowledge import AckResult, TokenError, packet_for_token
from gateway.delivery.packet_email import template_environment
from gateway.periods import SHANGHAI

_page = template_environment().get_template("ack.html.j2")

_TITLES = {"confirm": "确认收到线索包", "done": "已确认收到", "expired": "链接已过期", "forged": "链接无效"}
_STATUS = {"confirm": 200, "done": 200, "expired": 410, "forged": 404}


def _render(state: str, result: AckResult | None = None) -> web.Response:
    when = result.acknowledged_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M") if result and result.acknowledged_at else ""
    return web.Response(
        status=_STATUS[state], text=_page.render(state=state, title=_TITLES[state], result=result, when=when),
        content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


async def _handle(request: web.Request, *, confirm: bool) -> web.Response:
    gw = request.app[GATEWAY]
    token = request.match_info["token"]

    def work() -> AckResult:
        with gw.uow.session_factory() as session:
            return packet_for_token(session, gw.ack_links, token, confirm=confirm)

    try:
        result = await in_thread(work)
    except TokenError as exc:
        return _render(exc.reason)
    if result.first_time:
        gw.metrics.acknowledgements.inc()
    return _render("done" if result.acknowledged_at else "confirm", result)


async def show(request: web.Request) -> web.Response:
    return await _handle(request, confirm=False)


async def confirm(request: web.Request) -> web.Response:
    return await _handle(request, confirm=True)
