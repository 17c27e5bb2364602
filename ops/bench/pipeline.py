#!/usr/bin/env python3
"""Pipeline benchmark: a synthetic monthly report processed end to end on the embedded default.

    .venv/bin/python ops/bench/pipeline.py --sizes 10000 100000 [--database-url URL [--broker-url URL --workers 1 2 4]]

For each size, each part in a fresh process of its own: generate a monthly
report file (.jsonl; realistic Chinese complaint texts from the demo generator,
20% near-duplicates of hot topics, ~5% excluded, PII in ~30%); the baselines on
that file (parsing it with orjson, and a straightforward datasketch MinHash per
record; `pip install -e .[bench]`); then the gateway, timing read + validate +
store (the importer and intake), normalize (NFKC, OpenCC, taxonomy, gazetteer,
masking, screening, one row per ticket), route (committee per work order,
near-duplicate issues with the persistent MinHash index, topics, clues), each
committed. Prints records/s, ratios, the peak RSS of the gateway's process at
the end of each stage (not its normalization helpers', whose figure from
getrusage is not their own) and the generator's, apart.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def make_file(path: Path, n: int) -> None:
    from gateway.demo.generator import generate_week

    week = generate_week(date(2026, 11, 2), records=n, seed=11)
    with path.open("w", encoding="utf-8") as out:
        for record in week.weekly["records"][:n]:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_file_apart(path: Path, n: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    make_file(path, n)
    queue.put(peak_rss_mb())

def baselines(data: Path, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The same file parsed with orjson, and a straightforward datasketch MinHash per record: in a process of their own."""
    import orjson
    from datasketch import MinHash

    content = data.read_bytes()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for line in content.splitlines():
        if line:
            orjson.loads(line)
    timings["baseline_orjson_parse"] = time.perf_counter() - started
    started = time.perf_counter()
    for line in content.splitlines():
        if line:
            text = orjson.loads(line)["content"]
            m = MinHash(num_perm=64)
            m.update_batch([text[i:i + 3].encode("utf-8") for i in range(max(1, len(text) - 2))])
    timings["baseline_datasketch_minhash"] = time.perf_counter() - started
    queue.put(timings)


def in_process(target: Any, *args: Any) -> Any:
    """Run target(*args, queue) in a fresh spawned process and return what it put on the queue."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def run_size(n: int, database_url: str | None, data: Path, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The gateway alone in this process: its peak RSS is the gateway's (the file was made, and the baselines run, elsewhere)."""
    from gateway.bootstrap import bootstrap
    from gateway.intake.file_import import FileMeta, import_file
    from gateway.intake.receive import CHUNK_SIZE
    from gateway.pipeline.normalize import handle_normalize_report
    from gateway.pipeline.route import handle_route_report

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as scratch:
        content = data.read_bytes()
        timings: dict[str, float] = {}
        peaks: dict[str, float] = {}  # this process's peak RSS at the end of each stage
        settings = {"data_dir": Path(tmp) / "gw"}
        if database_url:  # a fresh database beside the one given, as for the distributed runs: this run's report is the first
            from ops.scratchdb import scratch_database

            settings["database_url"] = scratch.enter_context(scratch_database(database_url, prefix="gw_bench_"))
        gateway = bootstrap(**settings)
        gateway.uow.dispatch = None  # stages are run here, one after the other, to time each
        try:
            started = time.perf_counter()
            outcome = import_file(gateway.uow, content, data.name, FileMeta("monthly", f"BENCH-{n}", "2026-11-01", "2026-11-30"), client_id="bench", source="import")
            timings["intake"] = time.perf_counter() - started
            peaks["intake"] = peak_rss_mb()
            assert outcome.received is not None and outcome.received.receipt.records == n, outcome
            started = time.perf_counter()
            excluded = 0
            for seq in range(-(-n // CHUNK_SIZE)):
                summary = handle_normalize_report(1, gateway.uow(), normalizer=gateway.normalizer, keep_raw=False, assign=gateway.stages.assign_early, seq=seq)
                excluded += sum(summary.excluded.values())
            timings["normalize"] = time.perf_counter() - started
            peaks["normalize"] = peak_rss_mb()
            started = time.perf_counter()
            handle_route_report(1, gateway.uow(), routing=gateway.routing, mail_domain="bench.local", vocabulary=gateway.topic_vocabulary)
            timings["route"] = time.perf_counter() - started
            peaks["route"] = peak_rss_mb()
            from sqlalchemy import func, select

            from gateway.db.models import Clue, Issue

            with gateway.uow.session_factory() as session:
                issues = session.scalar(select(func.count()).select_from(Issue))
                clues = session.scalar(select(func.count()).select_from(Clue))
        finally:
            gateway.close()
        # Not the helper processes': their ru_maxrss (RUSAGE_CHILDREN) came out equal to this process's to the megabyte at
        # 1M records, as if it counted the pages they were forked with before their exec; it says nothing of their own.
        queue.put({"n": n, "timings": timings, "excluded": excluded, "issues": issues, "clues": clues, "peaks": peaks})


def run_distributed(n: int, database_url: str, broker_url: str, workers: int, log_dir: str | None,
                    queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The same report through the real queue: intake here, normalize (by chunk) and route in `workers` worker processes."""
    import subprocess
    import uuid

    from sqlalchemy import func, select

    from gateway.bootstrap import bootstrap
    from gateway.db.models import Clue, Issue, Report, utcnow
    from gateway.intake.file_import import FileMeta, import_file

    from ops.gwenv import gateway_env
    from ops.scratchdb import scratch_database

    with tempfile.TemporaryDirectory() as tmp, scratch_database(database_url, prefix="gw_bench_") as database_url:
        data = Path(tmp) / "bench.jsonl"
        make_file(data, n)
        content = data.read_bytes()
        prefix = "bench-" + uuid.uuid4().hex[:8]
        settings = {"data_dir": str(Path(tmp) / "gw"), "database_url": database_url, "broker_url": broker_url, "queue_prefix": prefix}
        gateway = bootstrap(**settings)
        env = gateway_env(**settings)
        if log_dir:
            Path(log_dir).mkdir(parents=True, exist_ok=True)
        logs = [open(Path(log_dir) / f"worker-{workers}-{i}.log", "wb") if log_dir else subprocess.DEVNULL for i in range(workers)]
        procs = [subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker", "--threads", "1"], env=env, cwd=tmp,
                                  stdout=log, stderr=subprocess.STDOUT) for log in logs]
        try:
            time.sleep(3)  # workers up
            started = time.perf_counter()
            import_file(gateway.uow, content, data.name, FileMeta("monthly", f"BENCH-{n}", "2026-11-01", "2026-11-30"), client_id="bench", source="import")
            intake = time.perf_counter() - started
            intake_done = utcnow()  # its chunks are committed and queued: from here on, the workers' part
            while True:
                with gateway.uow.session_factory() as session:
                    state = session.scalar(select(Report.state))
                if state in ("routed", "delivered"):
                    break
                time.sleep(0.2)
            total = time.perf_counter() - started
            with gateway.uow.session_factory() as session:
                issues = session.scalar(select(func.count()).select_from(Issue))
                clues = session.scalar(select(func.count()).select_from(Clue))
                report = session.scalar(select(Report))
                # intake done → normalized: the chunks, spread over the workers; normalized → routed: the one ordered stage.
                # (From received_at, as before 2026-12-03, normalize_s held most of the intake too, done here in one process.)
                stages = {"normalize_s": round((report.normalized_at - intake_done).total_seconds(), 1),
                          "route_s": round((report.routed_at - report.normalized_at).total_seconds(), 1),
                          "workers_s": round((report.routed_at - intake_done).total_seconds(), 1)}
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
            gateway.close()
    queue.put({"n": n, "workers": workers, "broker": broker_url.split(":")[0], "intake": round(intake, 1), "total": round(total, 1), **stages,
               "issues": issues, "clues": clues,
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database-url", default=None, help="e.g. postgresql://postgres@127.0.0.1:5432/test (default: SQLite in a temp folder); a fresh database is made beside it for each size and dropped after")
    parser.add_argument("--broker-url", default=None, help="with --database-url: run normalize and route in worker processes through this broker")
    parser.add_argument("--worker-logs", default=None, help="with --broker-url: a folder for each worker process's log (default: discarded)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="worker processes (several: one run each, e.g. 1 2 4)")
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url takes a PostgreSQL server's URL (a fresh database is made on it); leave it out for SQLite in a temp folder")
    if args.broker_url and not args.database_url:
        parser.error("--broker-url needs --database-url: worker processes share a PostgreSQL database")
    if args.broker_url:
        for n in args.sizes:
            first = None
            for workers in args.workers:
                result = in_process(run_distributed, n, args.database_url, args.broker_url, workers, args.worker_logs)
                print(json.dumps({**result, "records_per_s": round(n / result["total"])}, ensure_ascii=False), flush=True)
                if first is None:
                    first = result
                else:  # the speed-up over the first worker count of this run: end to end, and the workers' part alone
                    print(f"{n:,} records, {workers} ÷ {first['workers']} worker(s): end to end {first['total'] / result['total']:.2f}×, "
                          f"the workers' part (normalize + route) {first['workers_s'] / result['workers_s']:.2f}×, "
                          f"normalize {first['normalize_s'] / result['normalize_s']:.2f}×", flush=True)
        return 0
    console = Console(width=None if sys.stdout.isatty() else 160)  # a log file gets the whole table
    table = Table(title="pipeline: synthetic monthly report, end to end, one process")
    for col in ("records", "intake s", "normalize s", "route s", "total s", "records/s", "÷ orjson parse", "÷ datasketch MinHash", "issues", "clues", "excluded",
                "gateway peak RSS MB: after intake", "normalize", "route", "generator MB"):
        table.add_column(col)
    for n in args.sizes:
        with console.status(f"{n:,} records: making the file …") as status, tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / f"月报_BENCH-{n}_2026-11-01_2026-11-30.jsonl"
            generator_mb = in_process(make_file_apart, data, n)
            status.update(f"{n:,} records: the baselines …")
            base = in_process(baselines, data)
            status.update(f"{n:,} records: the gateway …")
            result = in_process(run_size, n, args.database_url, data)
        result["timings"].update(base)
        t = result["timings"]
        total = t["intake"] + t["normalize"] + t["route"]
        rate = n / total
        table.add_row(
            f"{n:,}", f"{t['intake']:.1f}", f"{t['normalize']:.1f}", f"{t['route']:.1f}", f"{total:.1f}", f"{rate:,.0f}",
            f"{t['baseline_orjson_parse'] / total:.3f}", f"{t['baseline_datasketch_minhash'] / total:.2f}",
            str(result["issues"]), str(result["clues"]), str(result["excluded"]),
            *(f"{result['peaks'][stage]:.0f}" for stage in ("intake", "normalize", "route")), f"{generator_mb:.0f}",
        )
        console.print(f"{n:,}: {json.dumps(t)}")
    console.print(table)
    console.print("÷ columns: the baseline's time divided by ours (1.0 = as fast as the baseline; orjson only parses, so far below 1 is expected)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
