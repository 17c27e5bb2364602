"""Readiness (`/readyz`): can this process do its work right now, and if not, why.

Liveness (`/healthz`) only says the process answers and its database does;
readiness checks each dependency the way the gateway uses it: the database
(and that its schema is the one this code expects), the broker, the mail
server (connect, TLS and login as configured). Each check has a short
timeout, so a hung dependency makes the answer "not ready", never a hang.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connectors.mail import FolderTransport

if TYPE_CHECKING:
    from gateway.bootstrap import Gateway

TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def _database(gateway: "Gateway") -> Check:
    from gateway.db.migrate import current, head

    try:
        with gateway.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        revision, expected = current(gateway.settings.resolved_database_url), head()
    except Exception as exc:
        return Check(False, f"cannot reach the database: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    if revision != expected:
        return Check(False, f"schema at revision {revision}, this code needs {expected}: run `gateway db upgrade`")
    return Check(True, f"reachable, schema {revision}")


def _broker(gateway: "Gateway") -> Check:
    url = gateway.settings.broker_url
    if not url:
        return Check(True, "in-process")
    parts = urlsplit(url)
    port = parts.port or {"redis": 6379, "rediss": 6380, "amqp": 5672, "amqps": 5671}.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=TIMEOUT_S):
            pass
        if parts.scheme.startswith("redis"):
            gateway.broker.client.ping()  # type: ignore[attr-defined]
    except Exception as exc:
        return Check(False, f"cannot reach the broker at {parts.hostname}:{port}: {type(exc).__name__}: {exc}")
    return Check(True, f"reachable at {parts.hostname}:{port}")


def _mail(gateway: "Gateway") -> Check:
    transport = gateway.transport
    try:
        return Check(True, transport.check(TIMEOUT_S))
    except Exception as exc:  # whatever the transport ran into is the reason
        if isinstance(transport, FolderTransport):
            return Check(False, f"cannot write .eml files to {transport.folder}: {getattr(exc, 'strerror', None) or exc}")
        return Check(False, f"cannot use the mail server {transport.location}: {type(exc).__name__}: {exc}")


_cache: dict[int, tuple[float, dict[str, Check]]] = {}


def readiness(gateway: "Gateway", *, max_age_s: float = 5.0) -> dict[str, Check]:
    """Every check; cached a few seconds, so that a scraper polling /readyz does not log in to the mail server each second."""
    cached = _cache.get(id(gateway))
    if cached and time.monotonic() - cached[0] < max_age_s:
        return cached[1]
    checks = {"database": _database(gateway), "broker": _broker(gateway), "mail": _mail(gateway)}
    _cache[id(gateway)] = (time.monotonic(), checks)
    return checks
