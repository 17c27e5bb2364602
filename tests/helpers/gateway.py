"""A gateway served on 127.0.0.1 for a test."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.bootstrap import Gateway, bootstrap
from gateway.serve import ServerThread
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET


@contextmanager
def running_gateway(data_dir: Path, *, workers: bool = True, **settings: Any) -> Iterator[tuple[Gateway, ServerThread]]:
    settings.setdefault("client_keys", f"{CLIENT_KEY_ID}:{CLIENT_SECRET}")
    settings.setdefault("retry_min_backoff_ms", 200)
    settings.setdefault("retry_max_backoff_ms", 1000)
    settings.setdefault("delivery_retry_s", "1")
    gateway = bootstrap(data_dir=data_dir, **settings)
    server = ServerThread(gateway, workers=workers).start()
    try:
        yield gateway, server
    finally:
        server.stop()
        gateway.close()
