"""Group commit for the push API: concurrent requests' reports stored in one transaction.

Each request still gets its receipt only after the commit that holds its report,
so nothing is acknowledged before it is durable; what is shared is the commit
(and its fsync), which is what limits a database's rate of small transactions.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from gateway.errors import GatewayError
from gateway.intake.receive import ReceiveReport, Received, handle_receive_report, store_batch
from gateway.uow import UnitOfWorkFactory, commit_and_dispatch, discard_emitted

log = logging.getLogger(__name__)


@dataclass
class _Job:
    cmd: ReceiveReport
    future: asyncio.Future[Received]
    loop: asyncio.AbstractEventLoop


def _settle(job: _Job, result: Received | BaseException) -> None:
    def apply() -> None:
        if job.future.done():
            return
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)

    job.loop.call_soon_threadsafe(apply)


class IntakeWriter:
    def __init__(self, uow: UnitOfWorkFactory, *, max_batch: int = 256) -> None:
        self._uow = uow
        self._max_batch = max_batch
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
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
        self._queue.put(_Job(cmd, future, loop))
        return await future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._write(batch)
                    return
                batch.append(job)
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        try:
            with self._uow.session_factory() as session:
                try:
                    results = store_batch(session, [job.cmd for job in batch])
                    commit_and_dispatch(session, self._uow.dispatch)
                except BaseException:
                    discard_emitted(session)
                    raise
            self.batches += 1
            self.reports += len(batch)
            for job, result in zip(batch, results):
                _settle(job, result)
        except DBAPIError as exc:
            # One of them collided with another process (or the database hiccuped): take them one by one.
            log.info("group commit of %d report(s) failed (%s); storing them one by one", len(batch), type(exc.orig).__name__)
            for job in batch:
                try:
                    _settle(job, handle_receive_report(job.cmd, self._uow()))
                except (GatewayError, DBAPIError) as single:
                    _settle(job, single)
        except Exception as exc:  # answer every waiting request rather than leave it hanging
            log.exception("group commit failed")
            for job in batch:
                _settle(job, exc)
