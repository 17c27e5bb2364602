"""`gateway import FILE`: the importer of uploads and the drop folder, from the command line."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from gateway.ops.terminal import terminal
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from gateway.errors import ConfigError, GatewayError


def cmd_import(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.db.models import Report
    from gateway.intake.drop_folder import reason_text
    from gateway.intake.file_import import FileMeta, import_file, meta_from_name
    from workers.runtime import WorkerRuntime

    console = terminal(stderr=True)
    path = Path(args.file)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    meta = FileMeta(kind=args.kind, report_id=args.report_id, period_start=args.period_start, period_end=args.period_end)
    if meta.kind is None and meta.report_id is None:
        meta = meta_from_name(path)
    gateway = bootstrap()
    runtime = WorkerRuntime(gateway.broker, gateway.actors.values(), threads=gateway.settings.worker_threads).start() if gateway.embedded else None
    try:
        try:
            outcome = import_file(gateway.uow, path.read_bytes(), path.name, meta, client_id=args.client_id, source="import", partial=args.partial)
        except GatewayError as exc:
            console.print(reason_text(path.name, exc), highlight=False)
            return 1
        if outcome.received is None:
            console.print(f"{path.name} was imported before (same content, sha256 {outcome.sha256[:12]}…); nothing to do.")
            return 0
        receipt = outcome.received.receipt
        console.print(f"report {receipt.report_id}: {receipt.records} work order(s) stored" + (f", {len(receipt.rejected)} row(s) refused" if receipt.rejected else "")
                      + (" (received before: nothing new)" if receipt.duplicate else ""))
        for rejected in receipt.rejected:
            console.print(f"  row {rejected.row}: " + "; ".join(f"{'.'.join(map(str, e.loc[2:]))}: {e.msg}" for e in rejected.errors))
        if runtime is None:
            console.print("queued for the workers of the running gateway")
            return 0
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("processing", total=4)
            steps = {"received": 1, "normalized": 2, "routed": 3, "delivered": 4}
            deadline = time.monotonic() + args.timeout
            while True:
                with gateway.uow.session_factory() as session:
                    state = session.scalar(select(Report.state).where(Report.client_id == args.client_id, Report.report_id == receipt.report_id))
                progress.update(task, completed=steps.get(state or "", 0), description=f"{receipt.report_id}: {state}")
                if state == "delivered" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        console.print(f"clue packets: {gateway.transport.location}")
        return 0
    finally:
        if runtime:
            runtime.stop()
        gateway.close()
