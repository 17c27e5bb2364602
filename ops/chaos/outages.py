#!/usr/bin/env python3
"""Outages of real services during a batch, each compared with an undisturbed run of the same input.

    .venv/bin/python ops/chaos/outages.py                       # all scenarios, 60 s broker outages
    .venv/bin/python ops/chaos/outages.py --only postgres --outage-s 20

Scenarios (PostgreSQL + a broker, an API and two worker processes, 2,000 work orders in 40 reports):
  redis      Redis shut down (it keeps nothing on disk: every queued message is lost) for --outage-s, then started again
  rabbitmq   RabbitMQ's app stopped for --outage-s, then started again
  postgres   PostgreSQL restarted in the middle of the batch
The services are restarted with the commands of ../shared/SERVICES.md before the script ends, whatever happens.
The mail server down and the command center down (sync and feedback push) are tested in the suite:
tests/integration/delivery/test_delivery.py, test_recovery.py, test_sync.py and test_loop.py.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ops.chaos.crash import Outcome, compare, make_reports, run  # noqa: E402

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "", "--appendonly", "no",
               "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def _sh(*args: str) -> None:
    subprocess.run(list(args), check=False, capture_output=True, timeout=120)


def _wait_port(port: int, up: bool, timeout: float = 120) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.5)


def redis_outage(seconds: float) -> None:
    _sh("redis-cli", "shutdown", "nosave")
    _wait_port(6379, up=False)
    try:
        time.sleep(seconds)
    finally:
        _sh(*REDIS_START)
        _wait_port(6379, up=True)


def rabbitmq_outage(seconds: float) -> None:
    _sh("rabbitmqctl", "stop_app")
    try:
        time.sleep(seconds)
    finally:
        _sh("rabbitmqctl", "start_app")
        _wait_port(5672, up=True)


def postgres_restart(_: float) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    _sh("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
    _wait_port(5432, up=True)


SCENARIOS = {
    "redis": ("redis", redis_outage, "Redis down (queues lost)"),
    "rabbitmq": ("rabbitmq", rabbitmq_outage, "RabbitMQ stopped"),
    "postgres": ("redis", postgres_restart, "PostgreSQL restarted mid-batch"),
}


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(SCENARIOS), nargs="+", default=list(SCENARIOS))
    parser.add_argument("--outage-s", type=float, default=60.0)
    args = parser.parse_args()
    console = Console()
    reports = make_reports(40, 50)
    table = Table(title=f"outages: {len(reports)} reports, {sum(len(r['records']) for r in reports)} work orders, PostgreSQL + broker, 2 workers")
    for col in ("fault", "how long", "reports in", "accounted for", "work orders", "issues", "clues", "emails", "sent twice", "push retries", "result"):
        table.add_column(col)
    failed = False
    for name in args.only:
        mode, fault, label = SCENARIOS[name]
        outcomes: list[Outcome] = []
        for disturbed in (False, True):
            with tempfile.TemporaryDirectory() as tmp, console.status(f"{label}: {'with the outage' if disturbed else 'undisturbed'} …"):
                outcomes.append(run(mode, reports, 0, workdir=Path(tmp), timeout=600,
                                    disrupt=(lambda f=fault: f(args.outage_s)) if disturbed else None))
        baseline, hit = outcomes
        problems = compare(baseline, hit)
        failed |= bool(problems)
        how_long = "restart" if name == "postgres" else f"{args.outage_s:g} s"
        table.add_row(label, how_long, str(hit.reports_in), f"{hit.delivered} delivered / {hit.accepted} accepted", f"{hit.work_orders} ({baseline.work_orders})",
                      f"{hit.issues} ({baseline.issues})", f"{hit.clues} ({baseline.clues})", str(hit.emails), str(hit.emails_twice), str(hit.push_retries),
                      "same result as undisturbed" if not problems else "; ".join(problems))
        console.print(f"{label}: undisturbed {baseline.seconds:.0f} s, with the outage {hit.seconds:.0f} s")
    console.print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
