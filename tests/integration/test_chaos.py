"""Crash chaos in CI: the gateway process (or a worker) killed with SIGKILL while reports are pushed (ops/chaos/crash.py).

Small on purpose: 8 reports of 20 work orders, and three kills, each made as soon as the outbox counts a step of
its stage in flight (normalize, route, deliver: one kill each), so that every kill lands mid-work without waiting
for a clock. One undisturbed embedded run is the baseline of both modes (the pipeline gives the same result on
either). `ops/chaos/crash.py` runs the large version (40 × 50, more kills, a baseline per mode) by hand.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from ops.chaos.crash import STAGES_TO_HIT, Outcome, compare, make_reports, run

REPORTS, PER_REPORT, KILLS = 8, 20, 3


@pytest.fixture(scope="module")
def reports() -> list[dict[str, object]]:
    made = make_reports(REPORTS, PER_REPORT)
    assert sum(len(r["records"]) for r in made) == REPORTS * PER_REPORT  # type: ignore[arg-type]
    return made


@pytest.fixture(scope="module")
def baseline(reports: list[dict[str, object]], tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    outcome = run("embedded", reports, 0, workdir=tmp_path_factory.mktemp("baseline"))
    print(f"baseline {outcome}")
    assert outcome.delivered == outcome.reports_in == REPORTS and outcome.work_orders == REPORTS * PER_REPORT and outcome.emails_twice == 0
    assert outcome.packets > REPORTS  # clues were made and mailed: there is delivery work to cut
    return outcome


@pytest.mark.parametrize("mode", ["embedded", pytest.param("redis", marks=pytest.mark.services)])
def test_killed_again_and_again_the_gateway_ends_with_what_an_undisturbed_run_gives(mode: str, reports: list[dict[str, object]],
                                                                                     baseline: Outcome, tmp_path: Path) -> None:
    from tests.helpers.services import need

    if mode == "redis":
        need("PostgreSQL", 5432)
        need("Redis", 6379)
    # Paced: the drain routes a small report in a few milliseconds, so the reports must keep coming through the kills.
    chaos = run(mode, reports, KILLS, workdir=tmp_path, seed=3, pace_s=0.5)
    print(f"{mode}: chaos {chaos}")
    assert sorted(chaos.killed_during) == sorted(STAGES_TO_HIT) and chaos.notes == []  # every kill hit work in flight
    assert compare(baseline, chaos) == []
    assert chaos.packets_with_two_ids == 0
    # A send cut off between "sent" and "recorded" goes out again under the same Message-ID: counted, bounded by the kills.
    assert chaos.emails - chaos.emails_twice == baseline.emails and chaos.emails_twice <= KILLS * 4
