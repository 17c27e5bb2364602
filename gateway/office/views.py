"""The inbox's pages: read the request, call one function of `gateway.office.inbox`, render or redirect."""
from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from gateway.office import auth, work_views
from gateway.office.forwarding import forwarding
from gateway.office.inbox import STATES, InboxFilter, acknowledge_clue, add_note, clue_detail, inbox
from gateway.office.results import result_for
from gateway.office.web import GATEWAY, VIEWER, act, page, read, write
from gateway.pipeline.routing_rules import CLUE_TYPES


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", inbox_page)
    app.router.add_get("/login", auth.login_form)
    app.router.add_post("/login", auth.login)
    app.router.add_post("/logout", auth.logout)
    app.router.add_get("/clues/{clue_id}", clue_page)
    app.router.add_post("/clues/{clue_id}/acknowledge", acknowledge)
    app.router.add_post("/clues/{clue_id}/notes", note)
    work_views.add_routes(app)  # 转交, 附表1, 督办


@auth.login_required
async def inbox_page(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    wanted = InboxFilter.from_query(request.query)
    result = await read(request, lambda s: inbox(s, viewer, gw.routing, wanted))
    query = {k: v for k, v in (("report", wanted.report), ("committee", wanted.committee), ("type", wanted.clue_type),
                               ("state", wanted.state), ("q", wanted.q)) if v}
    return page(request, "inbox.html.j2", title="线索", inbox=result, wanted=wanted, types=CLUE_TYPES, states=STATES,
                page_url=lambda n: "/office/?" + urlencode({**query, "page": n}))


@auth.login_required
async def clue_page(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    clue_id = request.match_info["clue_id"]
    detail, result = await read(request, lambda s: (clue_detail(s, viewer, gw.routing, clue_id), result_for(s, clue_id)))
    forwards = await read(request, lambda s: forwarding(s, viewer, gw.routing, clue_id))
    return page(request, "clue.html.j2", title=detail.title, clue=detail, done=request.query.get("done", ""), forwarding=forwards,
                result=result)


@auth.login_required
async def acknowledge(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    clue_id = request.match_info["clue_id"]
    results = await write(request, lambda s: acknowledge_clue(s, viewer, gw.routing, clue_id))
    for result in results:
        if result.first_time:
            gw.metrics.acknowledgements.inc()
    raise web.HTTPSeeOther(f"/office/clues/{clue_id}?done=ack")


@auth.login_required
async def note(request: web.Request) -> web.StreamResponse:
    viewer, clue_id = request[VIEWER], request.match_info["clue_id"]
    text = str((await request.post()).get("text", ""))
    await act(request, lambda s: add_note(s, viewer, clue_id, text), f"/office/clues/{clue_id}?done=note")

