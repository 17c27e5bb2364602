"""Running the gateway: API, in-process workers and the recovery sweep, in one event loop."""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from aiohttp import web
from sqlalchemy import delete

from connectors.http import create_app
from gateway.bootstrap import Gateway
from gateway.db.models import SeenSignature, utcnow
from workers.runtime import WorkerRuntime

log = logging.getLogger(__name__)


def _housekeeping(gateway: Gateway) -> None:
    gateway.dispatcher.sweep(gateway.settings.stalled_after_s)
    cutoff = utcnow() - timedelta(seconds=2 * gateway.settings.signature_window_s)
    with gateway.uow.session_factory() as session:
        session.execute(delete(SeenSignature).where(SeenSignature.seen_at < cutoff))
        session.commit()


async def _sweep_forever(gateway: Gateway) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(gateway.settings.sweep_interval_s)
        try:
            await loop.run_in_executor(None, _housekeeping, gateway)
        except Exception:  # keep sweeping; the next round may succeed
            log.exception("recovery sweep failed")


async def serve(
    gateway: Gateway,
    *,
    host: str,
    port: int,
    workers: bool,
    sweep: bool = True,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until `stop` is set (or forever). With `workers`, consume the queues in this process too."""
    runtime = WorkerRuntime(gateway).start() if workers else None
    runner = web.AppRunner(create_app(gateway), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    sweeper = None
    try:
        if sweep:
            await asyncio.get_running_loop().run_in_executor(None, gateway.dispatcher.recover)
            sweeper = asyncio.create_task(_sweep_forever(gateway))
        if ready:
            ready(bound)
        await (stop.wait() if stop else asyncio.Event().wait())
    finally:
        if sweeper:
            sweeper.cancel()
        await runner.cleanup()
        if runtime:
            await asyncio.get_running_loop().run_in_executor(None, runtime.stop)


class ServerThread:
    """The gateway served from a background thread (demo and tests): start() returns once it listens."""

    def __init__(self, gateway: Gateway, *, host: str = "127.0.0.1", port: int = 0, workers: bool = True, sweep: bool = True) -> None:
        self.gateway, self.host, self.port = gateway, host, port
        self.workers, self.sweep = workers, sweep
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gateway-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(port: int) -> None:
                self.port = port
                self._ready.set()

            await serve(self.gateway, host=self.host, port=self.port, workers=self.workers, sweep=self.sweep, ready=ready, stop=self._stop)

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def start(self) -> "ServerThread":
        self._thread.start()
        self._ready.wait(60)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
