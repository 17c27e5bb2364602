"""`gateway sync` and `gateway simulator`."""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import threading

from gateway.ops.terminal import terminal
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gateway.errors import GatewayError


def cmd_sync(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.intake.pull_sync import SyncSummary, sync_once

    console = terminal(stderr=True)
    gateway = bootstrap()
    totals = {"pages": 0, "reports": 0, "duplicates": 0, "rejected": 0}
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"pulling from {gateway.settings.pull_url}", total=None)

            def on_page(page: SyncSummary) -> None:
                totals["pages"] += 1
                totals["reports"] += page.reports
                totals["duplicates"] += page.duplicates
                totals["rejected"] += len(page.rejected)
                progress.update(task, description=f"page {totals['pages']}: {totals['reports']} new report(s), {totals['duplicates']} already received, {totals['rejected']} refused")

            summary = asyncio.run(sync_once(gateway.puller(), on_page=on_page, max_pages=args.max_pages))
    except GatewayError as exc:
        console.print(f"sync failed: {exc.detail}", style="red")
        console.print("It is recorded as a failed sync run (gateway_sync_failures_total); the cursor stays at the last stored page, so the next run resumes there.")
        return 1
    finally:
        gateway.close()
    print(json.dumps({"run": summary.run_id, "state": summary.state, "pages": summary.pages, "reports": summary.reports,
                      "duplicates": summary.duplicates, "records": summary.records, "rejected": summary.rejected}, ensure_ascii=False, indent=2))
    return 0


def cmd_simulator(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from connectors.simulator import create_simulator
    from gateway.demo.generator import generate_week
    from gateway.serve import AppThread
    from gateway.settings import ClientKey

    key_id, _, secret = args.key.partition(":")
    if not secret:
        raise GatewayError("--key must be keyid:secret (the key the gateway signs its pulls with)")
    monday = date.today() - timedelta(days=date.today().weekday() + 7 * args.weeks)
    reports = []
    for n in range(args.weeks):
        week = generate_week(monday + timedelta(weeks=n), records=args.records, seed=n)
        reports += [week.weekly, week.urgent]
    app = create_simulator(reports, {key_id: ClientKey(key_id=key_id, secrets=[secret])})
    server = AppThread(app, host=args.host, port=args.port).start()
    print(f"command-center simulator on {server.url}: {len(reports)} reports; faults: POST {server.url}/_sim/faults; state: GET {server.url}/_sim/state", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0
