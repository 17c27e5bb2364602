"""The nightly pull against the command-center simulator, with faults injected, a refusal, and a kill mid-sync."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.simulator import create_simulator
from gateway.bootstrap import Gateway, bootstrap
from gateway.db.models import Report, SyncCursor, SyncRun
from gateway.errors import PermanentError
from gateway.serve import AppThread
from gateway.settings import ClientKey
from gateway.intake.pull_sync import sync_once
from tests.helpers.processes import gateway_env
from tests.helpers.reports import record

PULL_KEY = ("gateway-puller", "pull-secret-0123456789")


def reports(n: int, records_each: int = 3) -> list[dict[str, Any]]:
    return [
        {"report_id": f"CC-EXP-{i:03d}", "kind": "express", "issued_at": f"2026-11-{1 + i % 28:02d}T08:00:00+08:00",
         "records": [record(f"P{i:03d}{j:03d}") for j in range(records_each)]}
        for i in range(n)
    ]


@pytest.fixture
def simulator() -> Iterator[AppThread]:
    app = create_simulator(reports(9), {PULL_KEY[0]: ClientKey(key_id=PULL_KEY[0], secrets=[PULL_KEY[1]])})
    server = AppThread(app).start()
    yield server
    server.stop()


def faults(simulator: AppThread, plan: list[str], slow_s: float = 2.0) -> None:
    request = urllib.request.Request(simulator.url + "/_sim/faults", data=json.dumps({"plan": plan, "slow_s": slow_s}).encode(), method="POST")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def sim_state(simulator: AppThread) -> dict[str, Any]:
    with urllib.request.urlopen(simulator.url + "/_sim/state") as response:
        return json.load(response)


def puller(tmp_path: Path, simulator: AppThread, **settings: Any) -> Gateway:
    return bootstrap(data_dir=tmp_path, pull_url=simulator.url, pull_key=":".join(PULL_KEY), pull_page_size=2,
                     pull_timeout_s=1.0, pull_backoff_s=0.05, **settings)


def stored(gateway: Gateway) -> tuple[int, int, int]:
    with gateway.uow.session_factory() as session:
        count = session.scalar(select(func.count()).select_from(Report)) or 0
        records = session.scalar(select(func.sum(Report.record_count))) or 0
        distinct = session.scalar(select(func.count(func.distinct(Report.report_id)))) or 0
        return count, records, distinct


def test_pull_pages_until_the_last_and_records_the_run(tmp_path: Path, simulator: AppThread) -> None:
    gateway = puller(tmp_path, simulator)
    try:
        summary = asyncio.run(sync_once(gateway.puller()))
        assert (summary.state, summary.pages, summary.reports, summary.records) == ("finished", 5, 9, 27)
        assert stored(gateway) == (9, 27, 9)
        with gateway.uow.session_factory() as session:
            assert session.get(SyncCursor, PULL_KEY[0]).cursor == "c8"
            assert {r.source for r in session.scalars(select(Report))} == {"pull"}
        again = asyncio.run(sync_once(gateway.puller()))  # the last page is asked for again, and recognised
        assert (again.reports, again.duplicates) == (0, 1)
        assert stored(gateway) == (9, 27, 9)
    finally:
        gateway.close()


def test_faults_are_retried_and_nothing_is_lost_or_counted_twice(tmp_path: Path, simulator: AppThread) -> None:
    plan = ["503", "truncate", "slow", "duplicate", "drop", "429", "500", "duplicate", "502", "truncate"]
    faults(simulator, plan, slow_s=2.0)
    gateway = puller(tmp_path, simulator)
    try:
        summary = asyncio.run(sync_once(gateway.puller()))
        state = sim_state(simulator)
        assert state["faults_served"] == plan
        assert summary.state == "finished" and summary.reports == 9 and summary.duplicates >= 2
        assert stored(gateway) == (9, 27, 9)  # 9 reports, 27 records in, 27 stored, none twice
        text = gateway.metrics.exposition().decode()
        assert 'gateway_sync_runs_total{outcome="finished",source="gateway-puller"} 1.0' in text
    finally:
        gateway.close()


def test_a_permanent_refusal_stops_the_sync_with_a_clear_error_and_keeps_the_cursor(tmp_path: Path, simulator: AppThread) -> None:
    gateway = puller(tmp_path, simulator)
    try:
        asyncio.run(sync_once(gateway.puller(), max_pages=2))
        faults(simulator, ["401"])
        with pytest.raises(PermanentError, match="refused the pull with 401"):
            asyncio.run(sync_once(gateway.puller()))
        with gateway.uow.session_factory() as session:
            runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
            assert [r.state for r in runs] == ["finished", "failed"]
            assert "401" in (runs[1].error or "")
            assert session.get(SyncCursor, PULL_KEY[0]).cursor == "c4"
        assert 'gateway_sync_failures_total{reason="permanent",source="gateway-puller"} 1.0' in gateway.metrics.exposition().decode()
        summary = asyncio.run(sync_once(gateway.puller()))  # after the fix, it resumes where it stopped
        assert summary.reports == 5 and stored(gateway) == (9, 27, 9)
    finally:
        gateway.close()


def test_retries_spent_fail_the_run_and_the_next_run_resumes(tmp_path: Path, simulator: AppThread) -> None:
    gateway = puller(tmp_path, simulator, pull_max_attempts=3)
    try:
        faults(simulator, ["503", "503", "503"])
        with pytest.raises(Exception, match="503"):
            asyncio.run(sync_once(gateway.puller()))
        assert 'gateway_sync_failures_total{reason="gave_up",source="gateway-puller"} 1.0' in gateway.metrics.exposition().decode()
        assert asyncio.run(sync_once(gateway.puller())).reports == 9
    finally:
        gateway.close()


def test_killed_mid_sync_resumes_without_loss_or_double_counting(tmp_path: Path, simulator: AppThread) -> None:
    faults(simulator, ["slow"] * 30, slow_s=0.4)  # slow pages, so there is a "mid" to kill in
    env = gateway_env(data_dir=str(tmp_path), pull_url=simulator.url, pull_key=":".join(PULL_KEY), pull_page_size="2", pull_timeout_s="5")
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "sync"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gateway = bootstrap(data_dir=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            with gateway.uow.session_factory() as session:
                pages = session.scalar(select(func.max(SyncRun.pages))) or 0
            if pages >= 2:
                break
            assert process.poll() is None and time.monotonic() < deadline, "the sync ended before it could be killed"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        before = stored(gateway)
        assert 0 < before[0] < 9
        faults(simulator, [])
        result = subprocess.run([sys.executable, "-m", "gateway.cli", "sync"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert stored(gateway) == (9, 27, 9)
        with gateway.uow.session_factory() as session:
            assert [r.state for r in session.scalars(select(SyncRun).order_by(SyncRun.id))] == ["interrupted", "finished"]
    finally:
        if process.poll() is None:
            process.kill()
        gateway.close()
