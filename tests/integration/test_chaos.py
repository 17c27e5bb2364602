"""Crash chaos in CI: the gateway process killed with SIGKILL while 2,000 work orders are pushed (ops/chaos/crash.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ops.chaos.crash import compare, make_reports, run


@pytest.mark.parametrize("mode", ["embedded", pytest.param("redis", marks=pytest.mark.services)])
def test_killed_again_and_again_the_gateway_ends_with_what_an_undisturbed_run_gives(mode: str, tmp_path: Path) -> None:
    from tests.helpers.services import need

    if mode == "redis":
        need("PostgreSQL", 5432)
        need("Redis", 6379)
    reports = make_reports(40, 50)
    assert sum(len(r["records"]) for r in reports) == 2000
    (tmp_path / "baseline").mkdir()
    (tmp_path / "chaos").mkdir()
    baseline = run(mode, reports, 0, workdir=tmp_path / "baseline")
    chaos = run(mode, reports, 4, workdir=tmp_path / "chaos", seed=3)
    print(f"{mode}: baseline {baseline}\n{mode}: chaos {chaos}")
    assert baseline.delivered == baseline.reports_in == 40 and baseline.work_orders == 2000 and baseline.emails_twice == 0
    assert compare(baseline, chaos) == []
    assert chaos.packets_with_two_ids == 0
    # A send cut off between "sent" and "recorded" goes out again under the same Message-ID: counted, bounded by the kills.
    assert chaos.emails - chaos.emails_twice == baseline.emails and chaos.emails_twice <= 4 * 4
