"""Group commit for the push API: concurrent requests' reports stored in one transaction.

Each request still gets its receipt only after the commit that holds its report,
so nothing is acknowledged before it is durable; what is shared is the commit
(and its fsync), which is what limits a database's rate of small transactions.

What does not need the database (the body's digest, validation, the rows) is
done by `submit` on the event loop before the report waits for the writer, so
that it overlaps the writer's commit; the writer thread only reads, inserts and
commits, on a connection it keeps (no pool check-out and ping per batch), and
answers a batch with one wake-up of the event loop.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from gateway.errors import GatewayError
from gateway.intake.receive import Prepared, ReceiveReport, Received, handle_receive_report, prepare, store_rows
from gateway.ports import Queued
from gateway.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class _Job:
    item: Prepared
    future: asyncio.Future[Received]
    loop: asyncio.AbstractEventLoop


def _apply(settled: list[tuple[_Job, Received | BaseException]]) -> None:
    for job, result in settled:
        if job.future.done():
            continue
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)


def _settle(settled: list[tuple[_Job, Received | BaseException]]) -> None:
    """Answer the jobs: one call into each event loop for the whole batch (each call writes to the loop's wake-up pipe)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, Received | BaseException]]] = defaultdict(list)
    for job, result in settled:
        by_loop[job.loop].append((job, result))
    for loop, jobs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_apply, jobs)
        except RuntimeError:  # that loop is closed: nobody waits for these answers any more
            pass


class IntakeWriter:
    def __init__(self, uow: UnitOfWorkFactory, *, max_batch: int = 256) -> None:
        self._uow = uow
        self._max_batch = max_batch
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
        self._connection: Connection | None = None
        self.batches = 0
        self.reports = 0

    def start(self) -> "IntakeWriter":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(30)

    async def submit(self, cmd: ReceiveReport) -> Received:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Received] = loop.create_future()
        self._queue.put(_Job(prepare(cmd), future, loop))
        return await future

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                while len(batch) < self._max_batch:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stop = True
                        break
                    batch.append(job)
                self._write(batch)
                if stop:
                    return
        finally:
            self._close()

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.invalidated or self._connection.closed:
            self._close()
            self._connection = self._uow.engine.connect()
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # a connection that is gone cannot be closed cleanly; it is dropped either way
                log.debug("closing the intake writer's connection failed", exc_info=True)
            self._connection = None

    def _write(self, batch: list[_Job]) -> None:
        emitted: list[Queued] = []
        try:
            connection = self._connect()
            with connection.begin():  # BEGIN IMMEDIATE on SQLite (gateway.db.engine); committed on leaving, rolled back on an error
                results, emitted = store_rows(connection, [job.item for job in batch])
            self.batches += 1
            self.reports += len(batch)
            _settle(list(zip(batch, results)))
        except DBAPIError as exc:
            self._close()
            emitted = []
            # One of them collided with another process (or the database hiccuped): take them one by one.
            log.info("group commit of %d report(s) failed (%s); storing them one by one", len(batch), type(exc.orig).__name__)
            for job in batch:
                try:
                    _settle([(job, handle_receive_report(job.item.cmd, self._uow()))])
                except (GatewayError, DBAPIError) as single:
                    _settle([(job, single)])
        except Exception as exc:  # answer every waiting request rather than leave it hanging
            self._close()
            emitted = []
            log.exception("group commit failed")
            _settle([(job, exc) for job in batch])
        # The answers first, then the broker: a message not sent now is sent by the sweep (it is in the outbox).
        if emitted and self._uow.dispatch is not None:
            try:
                self._uow.dispatch(emitted)
            except Exception:
                log.exception("dispatching %d committed message(s) failed; the sweep sends them", len(emitted))
