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
    if args.dry_run:
        return _dry_run(path)
    meta = FileMeta(kind=args.kind, report_id=args.report_id, period_start=args.period_start, period_end=args.period_end)
    if meta.kind is None and meta.report_id is None:
        meta = meta_from_name(path)
    gateway = bootstrap()
    runtime = WorkerRuntime(gateway.broker, gateway.actors.values(), threads=gateway.settings.worker_threads).start() if gateway.embedded else None
    try:
        try:
            outcome = import_file(gateway.uow, path.read_bytes(), path.name, meta, client_id=args.client_id, source="import", partial=args.partial,
                                  columns=gateway.config.columns)
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


def _dry_run(path: Path) -> int:
    """What the gateway would make of the file; nothing is stored and no database is opened."""
    from rich.table import Table

    from gateway.bootstrap import make_normalizer
    from gateway.intake.preview import preview_file
    from gateway.settings import load_config

    console = terminal()
    try:
        config = load_config()
        preview = preview_file(path.read_bytes(), path.name, make_normalizer(config, b"dry-run"), config.columns)
    except GatewayError as exc:
        terminal(stderr=True).print(f"{path.name}: {exc.detail}", style="red")
        return 1
    columns = Table(title=f"{path.name}: columns")
    columns.add_column("column in the file")
    columns.add_column("read as")
    for name, field in preview.recognised.items():
        columns.add_row(name, field)
    for name in preview.ignored:
        columns.add_row(name, "— not read")
    console.print(columns)
    console.print(f"{preview.rows} row(s): {preview.good} work order(s), {preview.bad} refused" + ("; the first problems:" if preview.problems else ""))
    for problem in preview.problems:
        console.print("  " + problem, style="red")
    for sample in preview.samples:
        console.print(f"  {sample['ticket_no']} · {sample['received_at']} · {sample['category'] or '(no category)'} · {sample['place']}"
                      + (f" · excluded: {sample['excluded']}" if sample["excluded"] else "") + f"\n    {sample['content'][:200]}")
    console.print("dry run: nothing was stored")
    return 0 if preview.good else 1
