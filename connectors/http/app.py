"""The aiohttp application factory."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from connectors.http import ack, loop, views
from connectors.http.openapi import build_openapi
from connectors.http.problems import make_middleware
from gateway.bootstrap import Gateway
from gateway.intake.group_commit import IntakeWriter
from gateway.office.app import create_office_app
from gateway.office.public import create_public_app

GATEWAY = views.GATEWAY
TEMPLATES = Path(__file__).resolve().parents[2] / "gateway" / "templates"


def create_ops_app(gateway: Gateway) -> web.Application:
    """Only /metrics, /healthz and /readyz: what `gateway scheduler` serves for Prometheus and the service manager."""
    app = web.Application(middlewares=[make_middleware(lambda status: None)])
    app[GATEWAY] = gateway
    app.router.add_get("/healthz", views.healthz)
    app.router.add_get("/readyz", views.readyz)
    app.router.add_get("/metrics", views.metrics)
    return app


def create_app(gateway: Gateway) -> web.Application:
    spec = build_openapi()
    spec_text = json.dumps(spec, ensure_ascii=False, indent=2)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(enabled_extensions=("html.j2",)))
    docs_html = env.get_template("api_docs.html.j2").render(spec=spec)

    async def openapi_json(_: web.Request) -> web.Response:
        return web.Response(text=spec_text, content_type="application/json", charset="utf-8")

    async def api_docs(_: web.Request) -> web.Response:
        return web.Response(text=docs_html, content_type="text/html", charset="utf-8")

    app = web.Application(
        middlewares=[make_middleware(lambda status: gateway.metrics.requests_rejected.labels(str(status)).inc())],
        client_max_size=gateway.settings.max_body_bytes,
    )
    app[GATEWAY] = gateway

    async def intake_writer(app: web.Application) -> AsyncIterator[None]:
        app[views.WRITER] = IntakeWriter(gateway.uow).start()
        yield
        app[views.WRITER].stop()

    app.cleanup_ctx.append(intake_writer)
    app.router.add_get("/healthz", views.healthz)
    app.router.add_get("/readyz", views.readyz)
    app.router.add_get("/metrics", views.metrics)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
    app.router.add_get("/api/v1/docs", api_docs)
    app.router.add_post("/api/v1/reports", views.post_report)
    app.router.add_post("/api/v1/reports/upload", views.upload_report)
    # "upload" is the file-upload resource, never a report id (see docs/decisions.md).
    app.router.add_get(r"/api/v1/reports/{report_id:(?!upload$)[^/]+}", views.get_report)
    app.router.add_get("/api/v1/work-orders/{ticket_no}", views.get_work_order)
    app.router.add_get("/api/v1/clues/{clue_id}", views.get_clue)
    app.router.add_post("/api/v1/consultations", loop.post_consultation)
    app.router.add_post("/api/v1/consultations/upload", loop.upload_consultation)
    app.router.add_get(r"/api/v1/consultations/{consultation_id:(?!upload$)[^/]+}", loop.get_consultation)
    app.router.add_patch("/api/v1/supervision/{supervision_id}", loop.patch_supervision)
    app.router.add_get("/ack/{token}", ack.show)
    app.router.add_post("/ack/{token}", ack.confirm)
    # The office's own pages (docs/office.md): a sub-application with its sessions, CSRF check and Chinese error pages.
    app.router.add_get("/office", _to_office)
    app.add_subapp("/office/", create_office_app(gateway))
    # What the office publishes, without login (协商成果公示, masked).
    app.add_subapp("/public/", create_public_app(gateway))
    return app


async def _to_office(_: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect("/office/")
