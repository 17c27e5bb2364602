"""Readiness (`/readyz`): can this process do its work right now, and if not, why.

Liveness (`/healthz`) only says the process answers and its database does;
readiness checks each dependency the way the gateway uses it: the database
(and that its schema is the one this code expects), the broker, the mail
server (connect, TLS and login as configured). Each check has a short
timeout, so a hung dependency makes the answer "not ready", never a hang.

A probe is a function of the timeout that returns how the dependency is used
("reachable at host:port") or raises saying why not; the adapters bring their
own (`MailTransport.check`, `connectors.broker.check_broker`), the database's
is here.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from gateway.db.migrate import current, head
from gateway.errors import GatewayError, TransientError

TIMEOUT_S = 3.0
Probe = Callable[[float], str]


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def database_probe(engine: Engine, url: str) -> Probe:
    """The database answers, and its schema is the one this code needs."""

    def probe(timeout: float) -> str:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            revision, expected = current(url), head()
        except Exception as exc:
            raise TransientError(f"cannot reach the database: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from exc
        if revision != expected:
            raise TransientError(f"schema at revision {revision}, this code needs {expected}: run `gateway db upgrade`")
        return f"reachable, schema {revision}"

    return probe


def _run(name: str, probe: Probe, location: str) -> Check:
    try:
        return Check(True, probe(TIMEOUT_S))
    except GatewayError as exc:  # the probe said why, in words
        return Check(False, exc.detail)
    except Exception as exc:  # whatever the dependency ran into is the reason
        return Check(False, f"cannot use the {name} {location}: {type(exc).__name__}: {exc}")


_cache: dict[int, tuple[float, dict[str, Check]]] = {}


def readiness(probes: Mapping[str, tuple[Probe, str]], *, cache_key: int, max_age_s: float = 5.0) -> dict[str, Check]:
    """Every probe (name → (probe, where)); cached a few seconds, so that a scraper polling /readyz does not log in to the mail server each second."""
    cached = _cache.get(cache_key)
    if cached and time.monotonic() - cached[0] < max_age_s:
        return cached[1]
    checks = {name: _run(name if name != "mail" else "mail server", probe, location) for name, (probe, location) in probes.items()}
    _cache[cache_key] = (time.monotonic(), checks)
    return checks
