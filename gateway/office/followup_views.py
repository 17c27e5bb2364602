"""The pages of 季度议题, results (评、公示) and the month and SLA board: read the request, call one function, render or redirect.

Office role only (the rules' functions refuse anyone else with 403); `/public/results` is served by `gateway.office.public`.
"""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from aiohttp import web

from gateway.db.models import utcnow
from gateway.errors import NotFound, ValidationFailed
from gateway.loop.table2 import parse_month, previous_month
from gateway.office import auth
from gateway.office.board import board, month_page, month_xlsx, report_detail, sync_runs
from gateway.office.quarter import mark_final, mark_preliminary, parse_quarter, quarter_of, quarter_page, unmark_final, unmark_preliminary
from gateway.office.results import evaluate, office_only, publish
from gateway.office.web import GATEWAY, VIEWER, act, page, read
from gateway.periods import SHANGHAI


def today() -> date:
    """Beijing's date (tests replace it to see a quarter's deadline on hand-picked days)."""
    return utcnow().astimezone(SHANGHAI).date()


def _month(name: str) -> str:
    try:
        parse_month(name)
    except ValidationFailed:
        raise NotFound("月份格式应为 2026-11。") from None
    return name


def add_routes(app: web.Application) -> None:
    app.router.add_get("/quarters", quarters)
    app.router.add_get("/quarters/{quarter}", quarter)
    app.router.add_post("/quarters/{quarter}/preliminary", _quarter_action(mark_preliminary, "preliminary", note=True))
    app.router.add_post("/quarters/{quarter}/preliminary/undo", _quarter_action(unmark_preliminary, "preliminary_undo"))
    app.router.add_post("/quarters/{quarter}/final", _quarter_action(mark_final, "final", note=True))
    app.router.add_post("/quarters/{quarter}/final/undo", _quarter_action(unmark_final, "final_undo"))
    app.router.add_post("/clues/{clue_id}/evaluation", evaluation)
    app.router.add_post("/clues/{clue_id}/publish", publication)
    app.router.add_get("/months", months)
    app.router.add_get("/months/{month}", month)
    app.router.add_get("/months/{month}/table2.xlsx", month_download)
    app.router.add_get("/board", sla_board)
    app.router.add_get("/board/reports/{report_id}", report)
    app.router.add_get("/board/syncs", syncs)


@auth.login_required
async def quarters(request: web.Request) -> web.StreamResponse:
    office_only(request[VIEWER])
    raise web.HTTPSeeOther(f"/office/quarters/{quarter_of(today())}")


@auth.login_required
async def quarter(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    name = request.match_info["quarter"]
    q = await read(request, lambda s: quarter_page(s, viewer, gw.routing, gw.calendar, name, today()))
    return page(request, "quarter.html.j2", title=f"{q.name}议题", nav="quarters", q=q, done=request.query.get("done", ""))


def _quarter_action(action, done: str, *, note: bool = False):  # type: ignore[no-untyped-def]
    @auth.login_required
    async def handler(request: web.Request) -> web.StreamResponse:
        viewer, name = request[VIEWER], request.match_info["quarter"]
        parse_quarter(name)
        form = await request.post()
        clue_id = str(form.get("clue_id", ""))[:40]
        extra = (str(form.get("note", "")),) if note else ()
        await act(request, lambda s: action(s, viewer, name, clue_id, *extra), f"/office/quarters/{name}?done={done}")

    return handler


@auth.login_required
async def evaluation(request: web.Request) -> web.StreamResponse:
    viewer, clue_id = request[VIEWER], request.match_info["clue_id"]
    form = await request.post()
    rating, text = str(form.get("rating", "")), str(form.get("text", ""))
    await act(request, lambda s: evaluate(s, viewer, clue_id, rating, text), f"/office/clues/{quote(clue_id)}?done=evaluated#results")


@auth.login_required
async def publication(request: web.Request) -> web.StreamResponse:
    viewer, clue_id = request[VIEWER], request.match_info["clue_id"]
    wanted = str((await request.post()).get("publish", "1")) == "1"
    done = "published" if wanted else "unpublished"
    await act(request, lambda s: publish(s, viewer, clue_id, wanted), f"/office/clues/{quote(clue_id)}?done={done}#results")


@auth.login_required
async def months(request: web.Request) -> web.StreamResponse:
    office_only(request[VIEWER])
    raise web.HTTPSeeOther(f"/office/months/{previous_month(today())}")


@auth.login_required
async def month(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    office_only(viewer)
    name = _month(request.match_info["month"])
    m = await read(request, lambda s: month_page(s, name))
    return page(request, "month.html.j2", title=f"{m.summary.title_month}月报", nav="months", m=m, hall=gw.settings.hall_name)


@auth.login_required
async def month_download(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    office_only(viewer)
    name = _month(request.match_info["month"])
    filename, body = await read(request, lambda s: month_xlsx(s, name, gw.settings.hall_name, today()))
    return web.Response(body=body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=\"table2-{name}.xlsx\"; filename*=UTF-8''{quote(filename)}"})


@auth.login_required
async def sla_board(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    office_only(viewer)
    s = gw.settings
    b = await read(request, lambda session: board(session, gw.routing, chase_after_h=s.ack_chase_after_h, pull_schedule=s.pull_schedule,
                                                  sync_configured=bool(s.pull_url)))
    now = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return page(request, "board.html.j2", title="监测看板", nav="board", b=b, now=now, month=previous_month(today()))


@auth.login_required
async def report(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    office_only(viewer)
    report_id = request.match_info["report_id"]
    r = await read(request, lambda s: report_detail(s, gw.routing, report_id))
    return page(request, "report.html.j2", title=f"报告 {report_id}", nav="board", r=r, tz=SHANGHAI)


@auth.login_required
async def syncs(request: web.Request) -> web.StreamResponse:
    office_only(request[VIEWER])
    return page(request, "syncs.html.j2", title="同步记录", nav="board", runs=await read(request, sync_runs))
