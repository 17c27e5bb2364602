#!/usr/bin/env python3
"""Crash chaos: push reports while the gateway (embedded) or its workers (distributed) are killed with SIGKILL, then count.

    .venv/bin/python ops/chaos/crash.py --mode embedded --reports 40 --per-report 50 --kills 5
    .venv/bin/python ops/chaos/crash.py --mode rabbitmq --kills 5      # PostgreSQL + RabbitMQ, workers killed
    .venv/bin/python ops/chaos/crash.py --mode redis --kills 5         # PostgreSQL + Redis, workers killed

Each mode runs the same input twice: once undisturbed, once with kills (each
victim restarted at once). A kill waits for no clock: it strikes as soon as the
database shows work of its stage in flight (queued or running normalize, route
or deliver steps, in turn) once its share of the reports has been accepted, so
every kill lands mid-work, whatever the speed of the machine. Then it checks: every report that got a
202 is stored and delivered; work orders, issues and clues equal the undisturbed
run's; no packet went out under two Message-IDs; and how many emails a
recipient got twice (the goal is 0; a send cut off between "sent" and "recorded"
is re-sent with the same Message-ID, which is the one way it can happen).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ops.gwenv import gateway_env  # noqa: E402

KEY = ("chaos-command-center", "chaos-secret-0123456789abcdef")
BROKERS = {"rabbitmq": "amqp://guest:guest@127.0.0.1:5672/%2F", "redis": "redis://127.0.0.1:6379/0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_reports(count: int, per_report: int, seed: int = 7) -> list[dict[str, Any]]:
    from gateway.demo.generator import generate_week

    week = generate_week(date(2026, 11, 16), records=count * per_report, seed=seed)
    records = week.weekly["records"]
    return [
        {"report_id": f"CHAOS-EXP-{i:03d}", "kind": "express", "issued_at": f"2026-11-{16 + i % 7}T{8 + i % 10:02d}:00:00+08:00",
         "title": f"快报{i}", "records": records[i * per_report:(i + 1) * per_report]}
        for i in range(count) if records[i * per_report:(i + 1) * per_report]
    ]


@dataclass
class Outcome:
    mode: str
    kills: int
    reports_in: int
    accepted: int = 0  # got a 202 (or a 200 saying an earlier attempt of ours was stored)
    delivered: int = 0
    work_orders: int = 0
    issues: int = 0
    clues: int = 0
    packets: int = 0
    emails: int = 0
    emails_twice: int = 0  # a recipient got the same Message-ID more than once
    packets_with_two_ids: int = 0
    push_retries: int = 0
    killed_during: list[str] = field(default_factory=list)  # the stage that had work in flight at each kill
    seconds: float = 0.0
    routed_after_last_push_s: float | None = None  # every accepted report routed, this long after the last push was answered
    routed_after_last_restart_s: float | None = None  # … and after the last restart of a killed process
    notes: list[str] = field(default_factory=list)


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[tuple[str, ...], str, str]] = []  # recipients, Message-ID, packet header
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email
        from email import policy

        message = email.message_from_bytes(envelope.original_content or b"", policy=policy.default)
        with self.lock:
            self.received.append((tuple(envelope.rcpt_tos), str(message["Message-ID"]), str(message.get("X-Gateway-Packet", ""))))
        return "250 OK"


def _push_all(url: str, reports: list[dict[str, Any]], outcome: Outcome, stop: threading.Event, pace_s: float = 0.0) -> None:
    """Push each report until the gateway answers 202 or 200 (a retry of one it already stored): a careful client."""
    import aiohttp

    from connectors.push_client import SignedClient

    async def go() -> None:
        for report in reports:
            while not stop.is_set():
                try:
                    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                        answer = await SignedClient(session, url, *KEY).push_report(report)
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                    answer = None
                if answer is not None and answer.status in (200, 202):
                    outcome.accepted += 1
                    await asyncio.sleep(pace_s)  # a command center sending one report after the other, not all at once
                    break
                outcome.push_retries += 1
                await asyncio.sleep(0.3)

    asyncio.run(go())


def wait_until_up(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the gateway at {url} did not come up in {timeout} s")


STAGES_TO_HIT = ("normalize_report", "route_report", "deliver_packet")


def _wait_for_work_in_flight(engine: Any, stage: str, outcome: Outcome, accepted_at_least: int, pusher: threading.Thread, timeout: float) -> bool:
    """Until `accepted_at_least` reports are accepted and a `stage` step is queued or running (counted in the outbox).

    False when that cannot happen any more: everything was pushed and no step of any stage is left.
    """
    from sqlalchemy import func, select

    from gateway.db.models import OutboxMessage, Report

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            pending = dict(conn.execute(select(OutboxMessage.actor, func.count()).where(OutboxMessage.done_at.is_(None))
                                        .group_by(OutboxMessage.actor)).all())
            if stage == "route_report":  # a drain routes many reports per message: a report normalized and not yet routed is route work
                pending[stage] = pending.get(stage, 0) + conn.execute(
                    select(func.count()).select_from(Report).where(Report.state == "normalized")).scalar_one()
        if outcome.accepted >= accepted_at_least and pending.get(stage, 0) > 0:
            return True
        if not pusher.is_alive() and not pending:
            return False
        time.sleep(0.01)
    return False


def stop_all(procs: list[subprocess.Popen[bytes]], *, wait_s: float) -> None:
    """SIGTERM to the processes still running, then SIGKILL to those that have not ended after `wait_s`."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(wait_s)
        except subprocess.TimeoutExpired:
            p.kill()


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", *args], env=env, cwd=log.parent, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def _database(mode: str) -> Iterator[str | None]:
    if mode == "embedded":
        yield None
        return
    from ops.scratchdb import scratch_database

    with scratch_database(prefix="gw_chaos_") as url:
        yield url


def run(mode: str, reports: list[dict[str, Any]], kills: int, *, workdir: Path, seed: int = 1, timeout: float = 300,
        progress: Any = None, disrupt: Any = None, pace_s: float = 0.0) -> Outcome:
    """One run: the whole input pushed while `kills` SIGKILLs hit the gateway (embedded) or a worker (distributed).

    With `disrupt` (a function), it is called once, a little after the pushing starts, instead of the kills:
    an outage of a service (ops/chaos/outages.py).
    """
    from aiosmtpd.controller import Controller
    from sqlalchemy import create_engine, func, select, text

    from gateway.db.models import Clue, Delivery, Issue, Packet, Report, WorkOrder

    rng = random.Random(seed)
    outcome = Outcome(mode=mode, kills=kills, reports_in=len(reports))
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    started = time.monotonic()
    with ExitStack() as stack, _database(mode) as database_url:
        stack.callback(smtp.stop)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        prefix = "chaos-" + uuid.uuid4().hex[:8]
        settings = {
            "data_dir": str(workdir), "client_keys": ":".join(KEY), "smtp_url": f"smtp://127.0.0.1:{smtp.port}",
            "retry_min_backoff_ms": "200", "retry_max_backoff_ms": "2000", "delivery_retry_s": "1",
            "sweep_interval_s": "2", "stalled_after_s": "5", "pull_schedule": "", "digest_schedule": "", "feedback_schedule": "",
            "queue_prefix": prefix,
        }
        if database_url:
            settings.update(database_url=database_url, broker_url=BROKERS[mode])
        env = gateway_env(**settings)
        api_args = ["run", "--port", str(port)] if mode == "embedded" else ["api", "--port", str(port)]
        api = _spawn(api_args, env, workdir / "api.log")
        procs = [api]
        stack.callback(lambda: [p.kill() for p in procs if p.poll() is None])
        wait_until_up(url)
        workers: list[subprocess.Popen[bytes]] = []
        if mode != "embedded":
            workers = [_spawn(["worker", "--threads", "2"], env, workdir / f"worker{i}.log") for i in range(2)]
            procs.extend(workers)
        engine = create_engine(database_url or f"sqlite:///{workdir / 'gateway.db'}")
        stack.callback(engine.dispose)
        stop = threading.Event()
        pusher = threading.Thread(target=_push_all, args=(url, reports, outcome, stop, pace_s), daemon=True)
        pusher.start()
        if disrupt is not None:
            time.sleep(rng.uniform(1.0, 2.0))
            disrupt()
        last_restart = 0.0
        offset = rng.randrange(len(STAGES_TO_HIT))
        for k in range(kills):
            # The k-th kill after k/(kills+1) of the reports are in, while a step of the next stage in turn is in flight.
            stage = STAGES_TO_HIT[(offset + k) % len(STAGES_TO_HIT)]
            if not _wait_for_work_in_flight(engine, stage, outcome, len(reports) * k // (kills + 1), pusher, timeout):
                outcome.notes.append(f"kill {k + 1}: no {stage} step in flight any more; {kills - k} kill(s) not made")
                break
            outcome.killed_during.append(stage)
            if mode == "embedded":
                api.send_signal(signal.SIGKILL)
                api.wait()
                api = _spawn(api_args, env, workdir / "api.log")
                procs.append(api)
                wait_until_up(url)
                last_restart = time.monotonic()
            else:
                i = rng.randrange(len(workers))
                workers[i].send_signal(signal.SIGKILL)
                workers[i].wait()
                workers[i] = _spawn(["worker", "--threads", "2"], env, workdir / f"worker{i}.log")
                procs.append(workers[i])
                last_restart = time.monotonic()
            if progress:
                progress(f"kill {k + 1}/{kills}: {'gateway' if mode == 'embedded' else 'worker'} killed and restarted; {outcome.accepted} report(s) accepted so far")
        pusher.join(timeout)
        stop.set()
        last_push = time.monotonic()
        deadline = last_push + timeout
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                outcome.delivered = conn.execute(select(func.count()).select_from(Report).where(Report.state == "delivered")).scalar_one()
                routed = conn.execute(select(func.count()).select_from(Report).where(Report.routed_at.is_not(None))).scalar_one()
            if routed >= outcome.accepted and outcome.routed_after_last_push_s is None:
                now = time.monotonic()
                outcome.routed_after_last_push_s = now - last_push
                outcome.routed_after_last_restart_s = now - max(last_restart, last_push) if last_restart else None
            if outcome.delivered >= outcome.accepted:
                break
            time.sleep(0.1)
        with engine.connect() as conn:
            sent = conn.execute(select(func.count()).select_from(Delivery).where(Delivery.state == "sent")).scalar_one()
        while time.monotonic() < deadline:  # every send the gateway recorded is in the inbox (it is, once the server said 250)
            with inbox.lock:
                if len({(rcpt, mid) for rcpts, mid, _ in inbox.received for rcpt in rcpts}) >= sent:
                    break
            time.sleep(0.05)
        with engine.connect() as conn:
            outcome.work_orders = conn.execute(select(func.count()).select_from(WorkOrder)).scalar_one()
            outcome.issues = conn.execute(select(func.count()).select_from(Issue)).scalar_one()
            outcome.clues = conn.execute(select(func.count()).select_from(Clue)).scalar_one()
            outcome.packets = conn.execute(select(func.count()).select_from(Packet)).scalar_one()
            stored = conn.execute(select(func.count()).select_from(Report)).scalar_one()
            conn.execute(text("SELECT 1"))
        if stored != outcome.accepted:
            outcome.notes.append(f"{stored} reports stored for {outcome.accepted} accepted")
        stop_all(procs, wait_s=20)
        if mode == "redis":
            import redis

            client = redis.Redis.from_url(BROKERS["redis"])
            keys = list(client.scan_iter(f"{prefix}*"))
            if keys:
                client.delete(*keys)
        elif mode == "rabbitmq":
            import pika

            connection = pika.BlockingConnection(pika.URLParameters(BROKERS["rabbitmq"]))
            channel = connection.channel()
            from gateway.queues import STAGES

            for name in STAGES:
                for suffix in ("", ".DQ", ".XQ"):
                    channel.queue_delete(queue=f"{prefix}.{name}{suffix}")
            connection.close()
    with inbox.lock:
        received = list(inbox.received)
    outcome.emails = len(received)
    per_recipient = Counter((rcpt, mid) for rcpts, mid, _ in received for rcpt in rcpts)
    outcome.emails_twice = sum(n - 1 for n in per_recipient.values() if n > 1)
    ids_per_packet: dict[str, set[str]] = {}
    for _, mid, packet in received:
        ids_per_packet.setdefault(packet.split(";")[0], set()).add(mid)
    outcome.packets_with_two_ids = sum(1 for ids in ids_per_packet.values() if len(ids) > 1)
    outcome.seconds = time.monotonic() - started
    return outcome


def compare(baseline: Outcome, chaos: Outcome) -> list[str]:
    """What differs between the undisturbed run and the one with kills (empty: the same result)."""
    problems = []
    for name in ("accepted", "delivered", "work_orders", "issues", "clues", "packets"):
        if getattr(baseline, name) != getattr(chaos, name):
            problems.append(f"{name}: {getattr(baseline, name)} undisturbed, {getattr(chaos, name)} with kills")
    if chaos.delivered != chaos.reports_in:
        problems.append(f"{chaos.reports_in - chaos.delivered} report(s) not delivered")
    if chaos.packets_with_two_ids:
        problems.append(f"{chaos.packets_with_two_ids} packet(s) sent under two Message-IDs")
    return problems


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["embedded", "rabbitmq", "redis"], nargs="+", default=["embedded"])
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--per-report", type=int, default=50)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    console = Console()
    reports = make_reports(args.reports, args.per_report)
    table = Table(title=f"crash chaos: {len(reports)} reports, {sum(len(r['records']) for r in reports)} work orders")
    for col in ("fault", "kills", "reports in", "accounted for", "work orders", "issues", "clues", "emails", "sent twice",
                "all routed, s after last push", "s after last restart", "result"):
        table.add_column(col)
    failed = False
    for mode in args.mode:
        results = []
        for kills in (0, args.kills):
            with tempfile.TemporaryDirectory() as tmp, console.status(f"{mode}: {kills} kill(s) …") as status:
                results.append(run(mode, reports, kills, workdir=Path(tmp), seed=args.seed, progress=lambda m: status.update(f"{mode}: {m}")))
        baseline, chaos = results
        problems = compare(baseline, chaos)
        failed |= bool(problems)
        victim = "gateway process SIGKILL" if mode == "embedded" else f"worker SIGKILL (PostgreSQL + {mode})"
        for o, label in ((baseline, "none (undisturbed)"), (chaos, victim)):
            table.add_row(label, str(o.kills), str(o.reports_in), f"{o.delivered} delivered / {o.accepted} accepted", str(o.work_orders),
                          str(o.issues), str(o.clues), str(o.emails), str(o.emails_twice),
                          f"{o.routed_after_last_push_s:.1f}" if o.routed_after_last_push_s is not None else "not all",
                          f"{o.routed_after_last_restart_s:.1f}" if o.routed_after_last_restart_s is not None else "—",
                          "baseline" if o is baseline else ("same result" if not problems else "; ".join(problems)))
        console.print(json.dumps({"mode": mode, "baseline": baseline.__dict__, "chaos": chaos.__dict__, "problems": problems}, ensure_ascii=False))
    console.print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
