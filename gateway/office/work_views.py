"""The pages of forwarding (转交), 附表1 online and the 督办 board: read the request, call one function of
`forwarding`, `table1_form` or `supervision_board`, render or redirect (docs/office.md)."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.orm import Session

from contracts.consultations import Consultation as Table1
from gateway.errors import Forbidden, ValidationFailed
from gateway.loop.forms_xlsx import table1_filled
from gateway.office import auth, forwarding, supervision_board, table1_form
from gateway.office.web import GATEWAY, VIEWER, act, in_thread, page, read
from gateway.periods import SHANGHAI


def add_routes(app: web.Application) -> None:
    app.router.add_post("/clues/{clue_id}/forward", forward)
    app.router.add_get("/table1/", table1_list)
    app.router.add_get("/table1/new", table1_new)
    app.router.add_post("/table1/new", table1_file)
    app.router.add_get("/table1/{consultation_id}", table1_page)
    app.router.add_get("/table1/{consultation_id}/edit", table1_edit)
    app.router.add_get("/table1/{consultation_id}/download", table1_download)
    app.router.add_get("/supervision/", supervision_list)
    app.router.add_get("/supervision/{supervision_id}", supervision_page)
    app.router.add_post("/supervision/{supervision_id}", supervision_update)


def today() -> date:
    return table1_form.now().astimezone(SHANGHAI).date()


@auth.login_required
async def forward(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    clue_id = request.match_info["clue_id"]
    form = await request.post()
    station, note = str(form.get("workstation", "")), str(form.get("note", ""))
    await act(request, lambda s: forwarding.forward_clue(s, viewer, gw.routing, clue_id, station, note), f"/office/clues/{clue_id}?done=forward")


# ---- 附表1 ----------------------------------------------------------------------------------------------


@auth.login_required
async def table1_list(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    rows = await read(request, lambda s: table1_form.table1_list(s, viewer, gw.routing))
    return page(request, "table1_list.html.j2", title="协商议事活动开展情况表", nav="table1", rows=rows)


def _form_page(request: web.Request, values: table1_form.FormValues, choices: list[tuple[str, str]],
               errors: list[table1_form.FormError], *, status: int = 200) -> web.Response:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    where = {e.where for e in errors}
    return page(request, "table1_form.html.j2", status=status, title="填报协商议事活动开展情况表", nav="table1", values=values, choices=choices,
                errors=errors, where=where, outcomes=table1_form.OUTCOMES, hall=gw.settings.hall_name, due_text=table1_form.DUE_TEXT,
                stations=table1_form.stations(gw.routing), more=len(values.rows) + 10)


def _may_file(viewer) -> None:  # type: ignore[no-untyped-def]
    if viewer.role == "committee":
        raise Forbidden("附表1由委员工作站（活动组）或区政协办公室填报；委室可查看本委室联系工作站报送的情况表。")


@auth.login_required
async def table1_new(request: web.Request) -> web.StreamResponse:
    viewer = request[VIEWER]
    _may_file(viewer)
    try:
        rows = max(table1_form.ROWS, min(int(request.query.get("rows", table1_form.ROWS)), table1_form.MAX_ROWS))
    except ValueError:
        rows = table1_form.ROWS
    choices = await read(request, lambda s: table1_form.candidates(s, viewer))
    clue = request.query.get("clue", "")
    values = table1_form.blank(viewer, rows=rows, clue=clue if clue in {c for c, _ in choices} else "", today=today())
    return _form_page(request, values, choices, [])


@auth.login_required
async def table1_edit(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    _may_file(viewer)

    def values_and_choices(s: Session) -> tuple[table1_form.FormValues, list[tuple[str, str]]]:
        detail = table1_form.table1_detail(s, viewer, gw.routing, request.match_info["consultation_id"])
        choices = table1_form.candidates(s, viewer)
        return table1_form.values_of(detail.doc, detail.consultation_id, choices), choices

    values, choices = await read(request, values_and_choices)
    return _form_page(request, table1_form.padded(values), choices, [])


@auth.login_required
async def table1_file(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    _may_file(viewer)
    values = table1_form.read_form(await request.post())

    def work():  # type: ignore[no-untyped-def]
        return table1_form.file_online(gw.uow, viewer, gw.routing, gw.calendar, values)

    receipt, changed, errors = await in_thread(work)
    if errors or receipt is None:
        choices = await read(request, lambda s: table1_form.candidates(s, viewer))
        return _form_page(request, values, choices, errors, status=422)
    if changed and receipt.first_filing:
        gw.metrics.table1_received.labels("late" if receipt.late else "on_time").inc()
    done = "unchanged" if not changed else "filed" if receipt.revision == 1 else "revised"
    raise web.HTTPSeeOther(f"/office/table1/{receipt.consultation_id}?done={done}")


@auth.login_required
async def table1_page(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    detail = await read(request, lambda s: table1_form.table1_detail(s, viewer, gw.routing, request.match_info["consultation_id"]))
    return page(request, "table1.html.j2", title=f"情况表 {detail.consultation_id}", nav="table1", t=detail, hall=gw.settings.hall_name,
                done=request.query.get("done", ""), due_text=table1_form.DUE_TEXT)


@auth.login_required
async def table1_download(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]

    def filed(s: Session) -> tuple[str, Table1]:
        c = table1_form.consultation_of(s, viewer, request.match_info["consultation_id"])
        return c.consultation_id, Table1.model_validate(c.document)

    consultation_id, doc = await read(request, filed)
    body = table1_filled(doc, gw.settings.hall_name)
    name = f"{gw.settings.hall_name}协商议事活动开展情况表-{doc.workstation}-{consultation_id}.xlsx"
    return web.Response(body=body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=\"{consultation_id}.xlsx\"; filename*=UTF-8''{quote(name)}"})


# ---- 督办 ------------------------------------------------------------------------------------------------


@auth.login_required
async def supervision_list(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    show = "all" if request.query.get("show") == "all" else "open"
    board = await read(request, lambda s: supervision_board.board(s, viewer, gw.routing, gw.calendar, today(), show=show))
    return page(request, "supervision.html.j2", title="督办事项", nav="supervision", board=board)


async def _entry_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    entry = await read(request, lambda s: supervision_board.entry_detail(s, viewer, gw.routing, gw.calendar, today(),
                                                                         request.match_info["supervision_id"]))
    return page(request, "supervision_entry.html.j2", status=status, title="督办事项", nav="supervision", e=entry, error=error,
                done=request.query.get("done", ""))


@auth.login_required
async def supervision_page(request: web.Request) -> web.StreamResponse:
    return await _entry_page(request)


@auth.login_required
async def supervision_update(request: web.Request) -> web.StreamResponse:
    gw, viewer = request.app[GATEWAY], request[VIEWER]
    sid = request.match_info["supervision_id"]
    form = await request.post()
    try:  # update_entry reads with this session and writes through its own unit of work
        await read(request, lambda s: supervision_board.update_entry(gw.uow, s, viewer, sid, form))
    except ValidationFailed as exc:
        return await _entry_page(request, error=exc.detail, status=422)
    raise web.HTTPSeeOther(f"/office/supervision/{sid}?done=saved")
