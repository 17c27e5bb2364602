#!/usr/bin/env python3
"""Intake benchmark: signed, validated, durably committed single-record urgent reports per second.

Each server runs in a process of its own; this process is the client (32
concurrent connections by default, every request signed beforehand so that the
client does as little as possible while timing). Baseline: a bare aiohttp
handler that reads the body and answers 202 with a small JSON receipt, measured
in the same run. Prints requests per second, p50/p99 latency, the ratio of ours
to the baseline, and the CPU time per request of the server processes and of
this client (from /proc and getrusage, over the timed part).

    .venv/bin/python ops/bench/ingest.py [--requests 4000] [--concurrency 32] [--postgres [--api-processes 2]]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

KEY_ID, SECRET = "bench", "bench-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_bare(port: int) -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"receipt_id": uuid.uuid4().hex, "bytes": len(body), "duplicate": False}, status=202)

    app = web.Application()
    app.router.add_post("/api/v1/reports", handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def run_gateway(port: int, database_url: str, data_dir: str, reuse_port: bool = False, ready: Any = None) -> None:
    from gateway.bootstrap import bootstrap
    from gateway.serve import serve

    gateway = bootstrap(data_dir=Path(data_dir), database_url=database_url, client_keys=f"{KEY_ID}:{SECRET}")
    asyncio.run(serve(gateway, host="127.0.0.1", port=port, workers=False, sweep=False, reuse_port=reuse_port,
                      ready=(lambda _: ready.set()) if ready is not None else None))


def bodies(n: int, tag: str) -> list[bytes]:
    return [
        json.dumps({
            "report_id": f"BENCH-{tag}-{i}", "kind": "urgent", "issued_at": "2026-11-22T21:30:00+08:00", "summary": "暴雨致小区地下车库进水",
            "records": [{"ticket_no": f"B{tag}{i}", "received_at": "2026-11-22T21:31:00", "channel": "phone",
                         "category": ["城乡建设", "城市建设和市政管理", "基础设施"], "district": "通州区", "street": "梨园镇",
                         "community": "云景里社区", "address": "云景里社区地下车库",
                         "content": "我叫王建国，云景里社区地下车库进水，很多车被淹，电话13812345678，请赶紧派人抽水。",
                         "caller": {"name": "王建国", "phone": "13812345678"}, "status": "processing"}],
        }, ensure_ascii=False).encode("utf-8")
        for i in range(n)
    ]


async def load(url: str, payloads: list[bytes], concurrency: int, progress: Progress, label: str) -> tuple[float, list[float], dict[int, int]]:
    from gateway.signing import signed_headers

    stamp = time.time()
    requests = [(body, {**signed_headers(KEY_ID, SECRET, body, now=stamp), "Content-Type": "application/json"}) for body in payloads]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    task = progress.add_task(label, total=len(requests))
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            while not queue.empty():
                body, headers = queue.get_nowait()
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.perf_counter() - started)
                progress.advance(task)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return len(requests) / elapsed, latencies, statuses


def wait_listening(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def measure(target: str, args: argparse.Namespace, progress: Progress, processes: int = 1, **server_args: str) -> dict[str, object]:
    port = free_port()
    context = multiprocessing.get_context("spawn")
    started = []
    try:
        if target == "bare":
            started.append(context.Process(target=run_bare, args=(port,), daemon=True))
            started[0].start()
        else:
            # Several API processes on one port (SO_REUSEPORT), started one after the other (the first creates the schema).
            for _ in range(processes):
                ready = context.Event()
                started.append(context.Process(target=run_gateway, args=(port, *server_args.values(), processes > 1, ready), daemon=True))
                started[-1].start()
                if not ready.wait(60):
                    raise RuntimeError(f"gateway process on {port} did not start")
        wait_listening(port)
        url = f"http://127.0.0.1:{port}/api/v1/reports"
        asyncio.run(load(url, bodies(min(300, args.requests // 10), f"warm{target}{port}"), args.concurrency, progress, f"{target}: warm-up"))
        server_before, client_before = cpu_seconds(started), client_cpu_seconds()
        rps, latencies, statuses = asyncio.run(load(url, bodies(args.requests, f"{target}{port}"), args.concurrency, progress, f"{target}: timed"))
        server_after, client_after = cpu_seconds(started), client_cpu_seconds()
    finally:
        for process in started:
            process.terminate()
            process.join(10)
    latencies.sort()
    if processes > 1:
        target += f" ×{processes}"
    per_request = (lambda before, after: None if before is None or after is None else (after - before) / args.requests * 1e6)
    return {"target": target, "rps": rps, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "statuses": statuses,
            "server_us": per_request(server_before, server_after), "client_us": per_request(client_before, client_after)}


def cpu_seconds(processes: list[Any]) -> float | None:
    """CPU time (user + system) the server processes have used so far, from /proc (None where there is no /proc).

    Per request, it says what the server costs whatever the client and the machine's other load: on these two cores
    the client's own CPU caps the bare handler's rate, so the ratio to bare alone hides how far the server is from it.
    """
    total = 0.0
    try:
        for process in processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14 and 15)
    except (OSError, ValueError, IndexError):
        return None
    return total


def client_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--postgres", action="store_true", help="also measure on PostgreSQL (127.0.0.1:5432, db test)")
    parser.add_argument("--api-processes", type=int, default=1, metavar="N",
                        help="with --postgres, also measure N API processes on one port (SO_REUSEPORT), as `gateway api` replicas")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 120))  # the whole table on one line per server, even in a log
    results = []
    with tempfile.TemporaryDirectory() as tmp, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console, transient=True) as progress:
        results.append(measure("bare", args, progress))
        results.append(measure("gateway-sqlite", args, progress, database_url=f"sqlite:///{tmp}/bench.db", data_dir=tmp))
        if args.postgres:
            from ops.scratchdb import scratch_database

            with scratch_database(prefix="gw_bench_") as url:
                results.append(measure("gateway-postgres", args, progress, database_url=url, data_dir=tmp))
            if args.api_processes > 1:
                with scratch_database(prefix="gw_bench_") as url:
                    results.append(measure("gateway-postgres", args, progress, processes=args.api_processes, database_url=url, data_dir=tmp))
    baseline = results[0]["rps"]
    table = Table(title=f"intake: {args.requests} single-record urgent reports, {args.concurrency} connections, {os.cpu_count()} cores")
    for col in ("server", "req/s", "ratio to bare", "p50 ms", "p99 ms", "server CPU µs/req", "client CPU µs/req", "statuses"):
        table.add_column(col)
    shown = (lambda us: "n/a" if us is None else f"{us:.0f}")
    for r in results:
        table.add_row(str(r["target"]), f"{r['rps']:.0f}", f"{r['rps'] / baseline:.2f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}",
                      shown(r["server_us"]), shown(r["client_us"]), str(r["statuses"]))
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
