"""Views of the loop's return path: Table 1s from the workstations and supervision updates (INTEGRATION.md section 5)."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from connectors.http.multipart import parse_form
from connectors.http.views import GATEWAY, LOOP, _query, _read_body, _signed_body, authenticate, in_thread, json_response, parse_json
from contracts.consultations import Consultation as Table1
from contracts.consultations import ConsultationReceipt, SupervisionUpdate
from gateway.loop.supervision import update_supervision
from gateway.loop.table1 import FileTable1, consultation_view, file_table1
from gateway.errors import UnsupportedMediaType, ValidationFailed
from gateway.loop.forms_xlsx import read_table1


def _model(model: Any, data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise ValidationFailed("; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in errors[:10]), errors=errors) from exc


async def _file(request: web.Request, client_id: str, document: Table1, source: str) -> web.Response:
    gw = request.app[GATEWAY]
    cmd = FileTable1(client_id=client_id, document=document, source=source, workstation_of_client=gw.clients[client_id].workstation)

    def work() -> tuple[ConsultationReceipt, bool]:
        return file_table1(gw.uow(), cmd, routing=gw.routing, calendar=gw.calendar)

    receipt, changed = await in_thread(work)
    if changed and receipt.first_filing:
        gw.metrics.table1_received.labels("late" if receipt.late else "on_time").inc()
    return json_response(receipt, status=201 if changed and receipt.revision == 1 else 200)


async def post_consultation(request: web.Request) -> web.Response:
    body, verified = await _signed_body(request, "application/json", "send the Table 1 as application/json; charset=utf-8; the .xlsx form goes to /api/v1/consultations/upload", LOOP)
    _query(request)
    return await _file(request, verified.client_id, _model(Table1, parse_json(body)), "api")


async def upload_consultation(request: web.Request) -> web.Response:
    body, verified = await _signed_body(request, "multipart/form-data", "upload the filled 附表1 as multipart/form-data, field file", LOOP)
    _query(request)
    fields, files = parse_form(request.headers["Content-Type"], body)
    upload = files.get("file")
    if upload is None:
        raise ValidationFailed("the form has no file: send it in the field named file", errors=[{"loc": ["file"], "msg": "missing"}])
    if not upload.filename.lower().endswith(".xlsx"):
        raise UnsupportedMediaType(f"{upload.filename!r}: upload the filled 附表1 as .xlsx (`gateway template table1` writes a blank one)")
    document = await in_thread(lambda: read_table1(upload.content, filename=upload.filename, activity_id=fields.get("activity_id") or None))
    return await _file(request, verified.client_id, document, "upload")


async def get_consultation(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    verified = await authenticate(request, await _read_body(request), LOOP)
    _query(request)

    def load() -> dict[str, Any]:
        with gw.uow.read_session() as session:
            return consultation_view(session, request.match_info["consultation_id"], workstation_of_client=gw.clients[verified.client_id].workstation)

    return json_response(await in_thread(load))


async def patch_supervision(request: web.Request) -> web.Response:
    gw = request.app[GATEWAY]
    body, verified = await _signed_body(request, "application/json", "send the update as application/json; charset=utf-8", LOOP)
    _query(request)
    update = _model(SupervisionUpdate, parse_json(body))

    def work() -> dict[str, Any]:
        return update_supervision(gw.uow(), request.match_info["supervision_id"], update, workstation_of_client=gw.clients[verified.client_id].workstation,
                                  by=f"api:{verified.client_id}")

    return json_response(await in_thread(work))
