#!/usr/bin/env python3
"""Urgent reports while a big monthly report is processed: seconds from the push's 202 to the packet email.

    .venv/bin/python ops/bench/urgent.py [--monthly 100000] [--urgent 20] [--broker amqp://… --database postgresql://…]

A real `gateway run` (the embedded default; or `gateway api` + two `gateway worker`s with --broker/--database) and
a real SMTP server in this process (aiosmtpd). First the baseline: 20 urgent reports pushed one after the other
with nothing else to do. Then a monthly report of `--monthly` work orders is uploaded (.jsonl) and, as soon as it
is stored, the same 20 urgent reports (new ids) are pushed, one every 1.5 s, while it is normalized and routed.
Each urgent report's latency is its 202 to the arrival of its packet email. Prints p50, p99 and max for both,
the ratio, and whether the monthly report was still in work when the last urgent packet arrived.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from email import message_from_bytes, policy
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ops.chaos.crash import free_port, stop_all, wait_until_up  # noqa: E402
from ops.gwenv import gateway_env  # noqa: E402

KEY = ("bench-command-center", "bench-secret-0123456789abcdef")


class Inbox:
    """Arrival time of each urgent report's packet, by the token its complaint carries."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.lock:
            for token in (w for w in text.split() if w.startswith("紧急编号")):
                self.arrived.setdefault(token.strip("，。；"), now)
        return "250 OK"


def urgent_report(run: str, n: int) -> dict[str, Any]:
    token = f"紧急编号{run}{n:02d}"
    return {
        "report_id": f"BENCH-URGENT-{run}-{n:02d}", "kind": "urgent", "issued_at": "2026-11-29T21:30:00+08:00",
        "title": f"突发：地下车库进水 {token}",
        "records": [{"ticket_no": f"BU{run}{n:02d}0001", "received_at": "2026-11-29T21:20:00", "category": ["城乡建设", "市政设施"],
                     "district": "通州区", "street": "梨园镇", "content": f"云景里小区地下车库进水，很多车被淹，请赶紧派人抽水。 {token} 。"}],
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


async def _push(url: str, report: dict[str, Any]) -> float:
    import aiohttp

    from connectors.push_client import SignedClient

    async with aiohttp.ClientSession() as session:
        answer = await SignedClient(session, url, *KEY).push_report(report)
    if answer.status != 202:
        raise RuntimeError(f"{report['report_id']}: {answer.status} {answer.body}")
    return time.monotonic()


def urgent_round(url: str, inbox: Inbox, run: str, count: int, gap_s: float, timeout: float) -> list[float]:
    accepted: dict[str, float] = {}
    for n in range(count):
        accepted[f"紧急编号{run}{n:02d}"] = asyncio.run(_push(url, urgent_report(run, n)))
        time.sleep(gap_s)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with inbox.lock:
            if all(token in inbox.arrived for token in accepted):
                break
        time.sleep(0.05)
    with inbox.lock:
        missing = [t for t in accepted if t not in inbox.arrived]
        if missing:
            raise RuntimeError(f"{len(missing)} urgent packet(s) did not arrive within {timeout:.0f} s")
        return [inbox.arrived[t] - at for t, at in accepted.items()]


def monthly_file(path: Path, n: int) -> None:
    from gateway.demo.generator import generate_week

    week = generate_week(date(2026, 11, 2), records=n, seed=11)
    with path.open("w", encoding="utf-8") as out:
        for record in week.weekly["records"][:n]:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> int:
    from aiosmtpd.controller import Controller
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import create_engine, select

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monthly", type=int, default=100_000, help="work orders in the monthly report processed meanwhile")
    parser.add_argument("--urgent", type=int, default=20, help="urgent reports per round")
    parser.add_argument("--gap", type=float, default=1.5, help="seconds between urgent pushes")
    parser.add_argument("--broker", help="distributed mode: amqp://… or redis://… (with --database)")
    parser.add_argument("--database", help="distributed mode: postgresql+psycopg://… (default: a scratch database on 127.0.0.1:5432, dropped after)")
    args = parser.parse_args()
    console = Console()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    procs: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        if args.broker and not args.database:
            from ops.scratchdb import scratch_database

            args.database = stack.enter_context(scratch_database())
        return _measure(args, console, inbox, smtp, procs)


def _measure(args: argparse.Namespace, console: Any, inbox: Inbox, smtp: Any, procs: list[subprocess.Popen[bytes]]) -> int:
    from rich.table import Table
    from sqlalchemy import create_engine, select

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = {"data_dir": str(workdir), "client_keys": ":".join(KEY), "smtp_url": f"smtp://127.0.0.1:{smtp.port}",
                    "max_body_bytes": str(1 << 30), "pull_schedule": "", "digest_schedule": "", "feedback_schedule": "",
                    "queue_prefix": f"bench-{os.getpid()}"}
        if args.broker:
            settings.update(broker_url=args.broker, database_url=args.database or "")
        env = gateway_env(**settings)
        log = (workdir / "gateway.log").open("wb")
        command = [sys.executable, "-m", "gateway.cli"]
        procs.append(subprocess.Popen([*command, "run" if not args.broker else "api", "--port", str(port)], env=env, stdout=log, stderr=log))
        try:
            wait_until_up(url)  # the API process creates the schema; workers start once it has
            if args.broker:
                procs += [subprocess.Popen([*command, "worker"], env=env, stdout=log, stderr=log) for _ in range(2)]
            with console.status("warm-up: one urgent report, so that the workers have loaded their models …"):
                urgent_round(url, inbox, "W", 1, 0, timeout=300)
            with console.status("baseline: urgent reports with nothing else to do …"):
                idle = urgent_round(url, inbox, "A", args.urgent, args.gap, timeout=120)
            data = workdir / "monthly.jsonl"
            with console.status(f"generating a monthly report of {args.monthly:,} work orders …"):
                monthly_file(data, args.monthly)
            answer: dict[str, Any] = {}

            def upload() -> None:
                import aiohttp

                from connectors.push_client import SignedClient

                async def go() -> None:
                    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1800)) as session:
                        fields = {"kind": "monthly", "report_id": "BENCH-MONTH", "period_start": "2026-11-01", "period_end": "2026-11-30"}
                        got = await SignedClient(session, url, *KEY).upload(fields, "monthly.jsonl", data.read_bytes())
                        answer["status"], answer["at"] = got.status, time.monotonic()

                asyncio.run(go())

            with console.status("uploading the monthly report …"):
                upload()
            if answer.get("status") != 202:
                raise RuntimeError(f"the monthly upload got {answer}")
            engine = create_engine(args.database or f"sqlite:///{workdir / 'gateway.db'}")
            from gateway.db.models import Report

            with console.status("urgent reports while the monthly report is normalized and routed …"):
                loaded = urgent_round(url, inbox, "B", args.urgent, args.gap, timeout=600)
            with engine.connect() as conn:
                state = conn.execute(select(Report.state).where(Report.report_id == "BENCH-MONTH")).scalar_one()
            with console.status("waiting for the monthly report to be routed …"):
                deadline = time.monotonic() + 1800
                routed = None
                while time.monotonic() < deadline:
                    with engine.connect() as conn:
                        routed = conn.execute(select(Report.routed_at).where(Report.report_id == "BENCH-MONTH")).scalar_one()
                    if routed is not None:
                        break
                    time.sleep(1)
            monthly_s = time.monotonic() - answer["at"]
            engine.dispose()
        except Exception:
            log.flush()
            console.print("the gateway's log ends:\n" + "\n".join((workdir / "gateway.log").read_text(errors="replace").splitlines()[-25:]))
            raise
        finally:
            stop_all(procs, wait_s=30)
            smtp.stop()
    table = Table(title=f"urgent packets, seconds from 202 to email ({'PostgreSQL + broker' if args.broker else 'embedded default'})")
    for col in ("round", "n", "p50", "p99", "max"):
        table.add_column(col)
    for name, values in (("idle (baseline)", idle), (f"during a {args.monthly:,}-record monthly report", loaded)):
        table.add_row(name, str(len(values)), f"{percentile(values, 50):.2f}", f"{percentile(values, 99):.2f}", f"{max(values):.2f}")
    console.print(table)
    console.print(f"p99 under load ÷ p99 idle: {percentile(loaded, 99) / percentile(idle, 99):.1f}×; the monthly report was "
                  f"'{state}' when the last urgent packet had arrived, and was routed {monthly_s:.0f} s after its 202")
    console.print(json.dumps({"idle": idle, "loaded": loaded, "monthly_state_then": state, "monthly_routed_after_s": monthly_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
