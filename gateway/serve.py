"""Running the gateway: API, in-process workers and the recovery sweep, in one event loop."""
from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from connectors.http import create_app, create_ops_app
from gateway.bootstrap import Gateway
from gateway.delivery.notices import chase_unacknowledged, send_digest, send_due
from gateway.intake.drop_folder import DropFolder
from gateway.intake.pull_sync import next_run, sync_once
from gateway.nonces import forget as forget_signatures
from gateway.loop.feedback_push import push_month, retry_pending
from gateway.loop.supervision import chase_consultations
from gateway.loop.table2 import previous_month
from gateway.periods import SHANGHAI
from workers.runtime import WorkerRuntime

log = logging.getLogger(__name__)


def _housekeeping(gateway: Gateway) -> None:
    """The sweep's round: stalled steps again, the reminders, notices due, feedback not yet landed, old signatures forgotten."""
    s = gateway.settings
    tasks: list[tuple[str, Callable[[], object]]] = [
        ("redispatch", lambda: gateway.dispatcher.sweep(s.stalled_after_s)),
        ("chase", lambda: chase_unacknowledged(gateway.mailer, gateway.routing, gateway.ack_links, chase_after_h=s.ack_chase_after_h)),
        ("urge", lambda: chase_consultations(gateway.mailer, gateway.routing)),
        ("notice", lambda: send_due(gateway.mailer)),
        ("feedback", lambda: retry_pending(gateway.feedback()) if s.feedback_url or s.pull_url else None),
        ("signatures", lambda: forget_signatures(gateway.uow.session_factory, older_than=timedelta(seconds=2 * s.signature_window_s))),
    ]
    for task, run in tasks:  # one task that fails does not stop the others
        try:
            run()
        except Exception:
            log.exception("sweep task %s failed; the others went on", task)
            gateway.metrics.sweep_failures.labels(task).inc()


async def _sweep_forever(gateway: Gateway) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(gateway.settings.sweep_interval_s)
        try:
            await loop.run_in_executor(None, _housekeeping, gateway)
        except Exception:  # keep sweeping; the next round may succeed
            log.exception("recovery sweep failed")


async def _until_next(schedule: str, setting: str) -> datetime:
    """Sleep until the schedule's next time (cron, Beijing time); returns that time."""
    now = datetime.now(UTC)
    due = next_run(schedule, now, setting=setting)
    await asyncio.sleep(max(0.0, (due - now).total_seconds()))
    return due


async def _sync_on_schedule(gateway: Gateway) -> None:
    while True:
        await _until_next(gateway.settings.pull_schedule, "GATEWAY_PULL_SCHEDULE")
        try:
            summary = await sync_once(gateway.puller())
            log.info("scheduled sync finished: %d page(s), %d new report(s), %d duplicate(s)", summary.pages, summary.reports, summary.duplicates)
        except Exception as exc:  # recorded on the run and in the metrics; try again at the next time
            log.error("scheduled sync failed: %s", exc)


async def _digest_on_schedule(gateway: Gateway) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = await _until_next(gateway.settings.digest_schedule, "GATEWAY_DIGEST_SCHEDULE")
        try:
            # Each morning, the whole of the day before: nothing routed late in the evening falls between two digests.
            day = due.astimezone(SHANGHAI).date() - timedelta(days=1)
            await loop.run_in_executor(None, lambda: send_digest(gateway.mailer, gateway.routing, day, chase_after_h=gateway.settings.ack_chase_after_h))
        except Exception:  # recorded on the notice; the next day's digest still goes
            log.exception("daily digest failed")


async def _feedback_on_schedule(gateway: Gateway) -> None:
    loop = asyncio.get_running_loop()
    while True:
        due = await _until_next(gateway.settings.feedback_schedule, "GATEWAY_FEEDBACK_SCHEDULE")
        month = previous_month(due.astimezone(SHANGHAI).date())
        try:
            result = await loop.run_in_executor(None, push_month, gateway.feedback(), month)
            log.info("monthly feedback %s: %s after %d attempt(s)", result.idempotency_key, result.state, result.attempts)
        except Exception:  # kept as pending or failed on its row; the sweep or an operator takes it from there
            log.exception("monthly feedback for %s failed", month)


async def _watch_drop_folder(gateway: Gateway) -> None:
    assert gateway.settings.drop_dir is not None
    folder = DropFolder(gateway.uow, gateway.metrics, gateway.settings.drop_dir, client_id=gateway.settings.drop_client_id,
                        settle_s=min(1.0, gateway.settings.drop_poll_s), columns=gateway.config.columns)
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, folder.scan)
        except Exception:  # keep watching; the next scan may succeed
            log.exception("drop folder scan failed")
        await asyncio.sleep(gateway.settings.drop_poll_s)


def background_tasks(gateway: Gateway, *, sweep: bool) -> list[Callable[[Gateway], Awaitable[None]]]:
    """What runs beside the API: the recovery sweep (with reminders), the scheduled sync, the drop folder, the daily digest."""
    tasks: list[Callable[[Gateway], Awaitable[None]]] = []
    if sweep:
        tasks.append(_sweep_forever)
    if sweep and gateway.settings.pull_url and gateway.settings.pull_schedule.strip():
        gateway.settings.pull_credentials()  # refuse to start with a pull URL but no key
        tasks.append(_sync_on_schedule)
    if sweep and gateway.settings.drop_dir is not None:
        tasks.append(_watch_drop_folder)
    if sweep and gateway.settings.feedback_schedule.strip() and (gateway.settings.feedback_url or gateway.settings.pull_url):
        next_run(gateway.settings.feedback_schedule, datetime.now(UTC), setting="GATEWAY_FEEDBACK_SCHEDULE")
        tasks.append(_feedback_on_schedule)
    if sweep and gateway.settings.digest_schedule.strip():
        next_run(gateway.settings.digest_schedule, datetime.now(UTC), setting="GATEWAY_DIGEST_SCHEDULE")  # refuse a bad expression at start
        tasks.append(_digest_on_schedule)
    return tasks


async def serve(
    gateway: Gateway,
    *,
    host: str,
    port: int,
    workers: bool,
    sweep: bool = True,
    ready: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
    ops_only: bool = False,
    reuse_port: bool = False,
) -> None:
    """Serve until `stop` is set (or forever). With `workers`, consume the queues in this process too.

    With `ops_only` (`gateway scheduler`), serve only /metrics, /healthz and /readyz beside the background tasks.
    With `reuse_port`, several API processes listen on one port and the kernel spreads the connections (SO_REUSEPORT).
    """
    runtime = WorkerRuntime(gateway.broker, gateway.actors.values(), threads=gateway.settings.worker_threads).start() if workers else None
    runner = web.AppRunner(create_ops_app(gateway) if ops_only else create_app(gateway), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    running: list[asyncio.Task[None]] = []
    try:
        if sweep:
            await asyncio.get_running_loop().run_in_executor(None, gateway.dispatcher.recover)
        running = [asyncio.create_task(task(gateway)) for task in background_tasks(gateway, sweep=sweep)]
        if ready:
            ready(bound)
        await (stop.wait() if stop else asyncio.Event().wait())
    finally:
        for task in running:
            task.cancel()
        await runner.cleanup()
        if runtime:
            await asyncio.get_running_loop().run_in_executor(None, runtime.stop)


Main = Callable[[Callable[[int], None], asyncio.Event], Awaitable[None]]


class LoopThread:
    """Runs `main(ready, stop)` on an event loop of its own in a thread; start() returns once it called ready(port)."""

    def __init__(self, main: Main, *, host: str = "127.0.0.1", name: str = "gateway-loop") -> None:
        self._main = main
        self.host = host
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

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

            await self._main(ready, self._stop)

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def start(self) -> "LoopThread":
        self._thread.start()
        self._ready.wait(60)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


class ServerThread(LoopThread):
    """The gateway served from a background thread (demo and tests)."""

    def __init__(self, gateway: Gateway, *, host: str = "127.0.0.1", port: int = 0, workers: bool = True, sweep: bool = True) -> None:
        self.gateway = gateway

        async def main(ready: Callable[[int], None], stop: asyncio.Event) -> None:
            await serve(gateway, host=host, port=port, workers=workers, sweep=sweep, ready=ready, stop=stop)

        super().__init__(main, host=host, name="gateway-server")


async def serve_app(app: web.Application, *, host: str, port: int, ready: Callable[[int], None], stop: asyncio.Event) -> None:
    """Serve any aiohttp application until `stop` is set."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    try:
        ready(runner.addresses[0][1])
        await stop.wait()
    finally:
        await runner.cleanup()


class AppThread(LoopThread):
    """Any aiohttp application (the command-center simulator, a baseline) served from a thread."""

    def __init__(self, app: web.Application, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app

        async def main(ready: Callable[[int], None], stop: asyncio.Event) -> None:
            await serve_app(app, host=host, port=port, ready=ready, stop=stop)

        super().__init__(main, host=host, name="app-server")
