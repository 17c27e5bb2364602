"""The nightly pull: page by page, each page and its cursor committed together.

The cursor moves only in the transaction that stores the page it follows, so a
crash or a kill resumes from the last stored page; a page delivered again is
recognised by idempotency (client, report_id) and counted as duplicates.
After the last page the cursor stays at that page: next time it is asked for
again and its reports are recognised, not stored twice.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from cronsim import CronSim, CronSimError
from sqlalchemy import select

from gateway.db.models import SyncCursor, SyncRun, utcnow
from gateway.errors import ConfigError, Conflict, GatewayError, PermanentError, ValidationFailed
from gateway.intake.receive import ReceiveReport, store_report
from gateway.metrics import Metrics
from gateway.periods import SHANGHAI
from gateway.ports import CommandCenter
from gateway.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class Puller:
    """What a sync needs: the database, the command center (a client not yet opened), whose reports they are, the page size."""

    uow: UnitOfWorkFactory
    metrics: Metrics
    center: CommandCenter
    source: str  # the sync's name and the client id the pulled reports are stored under (idempotency with pushes)
    page_size: int


@dataclass
class SyncSummary:
    run_id: int
    state: str
    pages: int = 0
    reports: int = 0
    duplicates: int = 0
    records: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _start(uow: UnitOfWorkFactory, source: str) -> tuple[int, str | None]:
    with uow.session_factory() as session:
        # A run still "running" here was cut off (killed, crashed): one sync per source at a time.
        for stale in session.scalars(select(SyncRun).where(SyncRun.source == source, SyncRun.state == "running")):
            stale.state, stale.error, stale.finished_at = "interrupted", "the process ended before the run finished; the next run resumed from its last stored page", utcnow()
        run = SyncRun(source=source, state="running", rejected=[])
        session.add(run)
        cursor = session.get(SyncCursor, source)
        session.commit()
        return run.id, cursor.cursor if cursor else None


def _store_page(uow_factory: UnitOfWorkFactory, run_id: int, source: str, client_id: str, items: list[Any], next_cursor: str | None) -> SyncSummary:
    """Store one page's reports and move the cursor, in one unit of work."""
    with uow_factory() as uow:
        session = uow.session
        run = session.get(SyncRun, run_id)
        assert run is not None
        page = SyncSummary(run_id=run_id, state="running", pages=1)
        for position, item in enumerate(items):
            report_id = item.get("report_id") if isinstance(item, dict) else None
            try:
                with session.begin_nested():
                    received = store_report(session, ReceiveReport(client_id=client_id, data=item, source="pull"))
            except (ValidationFailed, Conflict) as exc:
                page.rejected.append({"page": run.pages + 1, "position": position, "report_id": report_id, "status": exc.status,
                                      "detail": exc.detail, "errors": exc.errors})
                continue
            if received.created:
                page.reports += 1
                page.records += received.receipt.records
            else:
                page.duplicates += 1
        if next_cursor is not None:
            cursor = session.get(SyncCursor, source) or SyncCursor(source=source)
            cursor.cursor = next_cursor
            session.add(cursor)
        run.pages += 1
        run.reports += page.reports
        run.duplicates += page.duplicates
        run.records += page.records
        run.rejected = [*run.rejected, *page.rejected]
        uow.commit()
        return page


def _finish(uow: UnitOfWorkFactory, run_id: int, error: str | None) -> SyncSummary:
    with uow.session_factory() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.state = "failed" if error else "finished"
        run.error = error
        run.finished_at = utcnow()
        session.commit()
        return SyncSummary(run_id=run.id, state=run.state, pages=run.pages, reports=run.reports, duplicates=run.duplicates,
                           records=run.records, rejected=list(run.rejected), error=error)


async def sync_once(puller: Puller, *, on_page: Callable[[SyncSummary], None] | None = None, max_pages: int | None = None) -> SyncSummary:
    """Pull until the command center has no next page (or max_pages). A failure is recorded on the run and re-raised."""
    loop = asyncio.get_running_loop()
    uow, metrics, source = puller.uow, puller.metrics, puller.source
    run_id, cursor = await loop.run_in_executor(None, _start, uow, source)
    pages = 0
    try:
        async with puller.center as center:
            while max_pages is None or pages < max_pages:
                page = await center.fetch_page(cursor, puller.page_size)
                stored = await loop.run_in_executor(None, partial(_store_page, uow, run_id, source, source, page.items, page.next_cursor))
                pages += 1
                metrics.sync_pages.labels(source).inc()
                metrics.sync_reports.labels(source, "stored").inc(stored.reports)
                metrics.sync_reports.labels(source, "duplicate").inc(stored.duplicates)
                metrics.sync_reports.labels(source, "rejected").inc(len(stored.rejected))
                if on_page:
                    on_page(stored)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
    except (GatewayError, OSError) as exc:
        reason = "permanent" if isinstance(exc, PermanentError) else "gave_up"
        metrics.sync_failures.labels(source, reason).inc()
        metrics.sync_runs.labels(source, "failed").inc()
        log.error("sync from %s failed after %d page(s): %s", source, pages, exc)
        await loop.run_in_executor(None, _finish, uow, run_id, str(exc))
        raise
    summary = await loop.run_in_executor(None, _finish, uow, run_id, None)
    metrics.sync_runs.labels(source, "finished").inc()  # the time of the last success is read from sync_runs when scraped
    return summary


def next_run(schedule: str, after: datetime, *, setting: str = "GATEWAY_PULL_SCHEDULE") -> datetime:
    """The next time a cron expression fires, read in Asia/Shanghai."""
    try:
        return next(CronSim(schedule, after.astimezone(SHANGHAI)))
    except CronSimError as exc:
        raise ConfigError(f"{setting} {schedule!r} is not a cron expression ({exc}); e.g. '0 2 * * *' for 02:00 daily") from exc
