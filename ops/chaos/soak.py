#!/usr/bin/env python3
"""Soak: urgent reports pushed at a steady rate for N minutes while a large weekly batch runs (not in CI).

    .venv/bin/python ops/chaos/soak.py --minutes 10 --rate 1 --batch 50000

One embedded gateway (`gateway run`, SQLite, in-process workers, mail to an
aiosmtpd server here). Prints, per minute: pushes, p50/p99 of push → 202, p99 of
urgent received → its packet delivered, the gateway's RSS, open file
descriptors and TCP connections; and at the end whether memory, descriptors or
connections grew.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ops.chaos.crash import KEY, free_port, make_reports, wait_until_up  # noqa: E402
from ops.gwenv import gateway_env  # noqa: E402


def _proc(pid: int) -> tuple[float, int, int]:
    """RSS in MB, open descriptors, TCP sockets of a process (Linux /proc)."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fds = os.listdir(f"/proc/{pid}/fd")
    sockets = sum(1 for fd in fds if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"))
    return rss, len(fds), sockets


def main() -> int:
    import aiohttp
    from aiosmtpd.controller import Controller
    from rich.console import Console
    from rich.table import Table

    from connectors.push_client import SignedClient
    from ops.chaos.crash import Inbox

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1.0, help="urgent reports per second")
    parser.add_argument("--batch", type=int, default=50_000, help="work orders in the weekly report pushed at the start")
    args = parser.parse_args()
    console = Console()
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = gateway_env(data_dir=workdir, client_keys=":".join(KEY), smtp_url=f"smtp://127.0.0.1:{smtp.port}",
                      pull_schedule="", digest_schedule="", feedback_schedule="")
    with open(workdir / "gateway.log", "ab") as log:
        gateway = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--port", str(port)], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    wait_until_up(url)
    from gateway.demo.generator import generate_week

    week = generate_week(date(2026, 11, 16), records=args.batch, seed=3)
    batch_ok: list[int] = []

    def push_batch() -> None:
        # The weekly report as a file through the upload endpoint (JSON lines), as a large report would come.
        import json

        content = "\n".join(json.dumps(r, ensure_ascii=False) for r in week.weekly["records"]).encode()

        async def go() -> None:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
                answer = await SignedClient(session, url, *KEY).upload(
                    {"kind": "weekly", "report_id": "SOAK-W47", "period_start": "2026-11-16", "period_end": "2026-11-22"}, "soak.jsonl", content)
                batch_ok.append(answer.status)

        asyncio.run(go())

    threading.Thread(target=push_batch, daemon=True).start()
    template = make_reports(1, 1)[0]["records"][0]
    latencies: list[tuple[float, float]] = []  # (sent at, push → 202 seconds)
    samples: list[tuple[float, float, int, int]] = []
    started = time.monotonic()
    end = started + args.minutes * 60

    async def pusher() -> None:
        n = 0
        async with aiohttp.ClientSession() as session:
            client = SignedClient(session, url, *KEY)
            next_at = time.monotonic()
            while time.monotonic() < end:
                n += 1
                record = {**template, "ticket_no": f"SOAK{n:09d}", "content": f"突发：{n}号楼燃气泄漏，请紧急处置。"}
                report = {"report_id": f"SOAK-U-{n:06d}", "kind": "urgent", "issued_at": "2026-11-23T08:00:00+08:00", "records": [record]}
                t0 = time.monotonic()
                answer = await client.push_report(report)
                if answer.status == 202:
                    latencies.append((t0 - started, time.monotonic() - t0))
                next_at += 1 / args.rate
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def sampler() -> None:
        while time.monotonic() < end + 5:
            try:
                samples.append((time.monotonic() - started, *_proc(gateway.pid)))
            except OSError:
                pass
            time.sleep(5)

    threading.Thread(target=sampler, daemon=True).start()
    with console.status(f"soaking for {args.minutes:g} min at {args.rate:g} urgent report(s)/s with a {args.batch}-record weekly batch …"):
        asyncio.run(pusher())
        time.sleep(10)

    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{workdir / 'gateway.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT received_at, delivered_at FROM reports WHERE kind = 'urgent'")).all()
        weekly_state = conn.execute(text("SELECT state FROM reports WHERE report_id = 'SOAK-W47'")).scalar()
    engine.dispose()
    gateway.terminate()
    gateway.wait(30)
    smtp.stop()

    def parse(value: Any) -> float:
        from datetime import datetime

        return datetime.fromisoformat(str(value)).timestamp()

    delivered = [parse(d) - parse(r) for r, d in rows if d is not None]
    table = Table(title=f"soak: {args.minutes:g} min, {args.rate:g} urgent/s, weekly batch of {args.batch} (upload answered {batch_ok or 'not yet'}; weekly state: {weekly_state})")
    for col in ("minute", "pushes", "push→202 p50 ms", "push→202 p99 ms", "RSS MB", "open fds", "sockets"):
        table.add_column(col)
    minutes = int(args.minutes)
    for m in range(minutes):
        window = sorted(lat for at, lat in latencies if m * 60 <= at < (m + 1) * 60)
        sample = [s for s in samples if m * 60 <= s[0] < (m + 1) * 60]
        last = sample[-1] if sample else (0, 0, 0, 0)
        p50 = statistics.median(window) * 1000 if window else 0
        p99 = window[min(len(window) - 1, int(len(window) * 0.99))] * 1000 if window else 0
        table.add_row(str(m + 1), str(len(window)), f"{p50:.1f}", f"{p99:.1f}", f"{last[1]:.0f}", str(last[2]), str(last[3]))
    console.print(table)
    delivered.sort()
    if delivered:
        console.print(f"urgent reports: {len(rows)} pushed and accepted, {len(delivered)} delivered; received → delivered "
                      f"p50 {statistics.median(delivered):.2f} s, p99 {delivered[min(len(delivered) - 1, int(len(delivered) * 0.99))]:.2f} s, max {delivered[-1]:.2f} s")
    if len(samples) > 4:
        first, last = samples[len(samples) // 4], samples[-1]  # after warm-up
        console.print(f"from minute {first[0] / 60:.1f} to the end: RSS {first[1]:.0f} → {last[1]:.0f} MB, open fds {first[2]} → {last[2]}, sockets {first[3]} → {last[3]}")
    console.print(f"files in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
