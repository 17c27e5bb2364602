"""The office's own pages (/office/) as an aiohttp sub-application, mounted by `connectors/http/app.py` beside the API.

Its middlewares, from the outside in: errors become a Chinese HTML page (never
the API's problem+json), with the same security headers on every answer; the
encrypted session cookie (aiohttp-session); a refused CSRF check as a page
that keeps the session; the CSRF check of every POST.
"""
from __future__ import annotations

from aiohttp import web
from aiohttp_session import session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from gateway.bootstrap import Gateway
from gateway.office import followup_views, views
from gateway.office.web import COOKIE, GATEWAY, csrf, csrf_refused, errors, session_key


def create_office_app(gateway: Gateway) -> web.Application:
    """The sub-application served under /office/."""
    s = gateway.settings
    storage = EncryptedCookieStorage(Fernet(session_key(s)), cookie_name=COOKIE, max_age=int(s.session_hours * 3600), path="/office",
                                     secure=s.public_url.startswith("https://"), httponly=True, samesite="Lax")
    app = web.Application(middlewares=[errors, session_middleware(storage), csrf_refused, csrf])
    app[GATEWAY] = gateway
    views.add_routes(app)
    followup_views.add_routes(app)
    return app
