"""`gateway` command line: run, api, worker, demo, sync, import, packets, digest, users, db, schema."""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError, GatewayError

DESCRIPTION = """\
Gateway between the 12345 hotline command center and the CPPCC office.
Takes in signed report pushes, turns work orders into clues, routes them to
committees and mails them clue packets (线索包).

Configuration comes from GATEWAY_* environment variables and an optional YAML
file (GATEWAY_CONFIG, or ./gateway.yaml); see README.md for every setting.
"""


def _setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    from gateway.ops.logs import setup

    setup(level, fmt)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


async def _serve_until_signal(gateway: Any, host: str, port: int, workers: bool, *, sweep: bool = True, ops_only: bool = False,
                              reuse_port: bool = False) -> None:
    from gateway.serve import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def ready(bound: int) -> None:
        print(f"gateway listening on http://{host}:{bound}  (Ctrl+C to stop)", flush=True)

    await serve(gateway, host=host, port=port, workers=workers, sweep=sweep, ready=ready, stop=stop, ops_only=ops_only, reuse_port=reuse_port)


def _serve(args: argparse.Namespace, *, workers: bool) -> int:
    from gateway.bootstrap import bootstrap

    gateway = bootstrap()
    s = gateway.settings
    _setup_logging(s.log_level, s.log_format)
    if not workers and gateway.embedded:
        gateway.close()
        command = "scheduler" if getattr(args, "ops_only", False) else "api"
        raise ConfigError(f"`gateway {command}` is part of a distributed deployment and needs GATEWAY_BROKER_URL (redis://… or amqp://…) "
                          "shared with its workers; use `gateway run` for everything in one process")
    broker = "in this process" if gateway.embedded else (s.broker_url or "").split("@")[-1] + (", also consumed here" if workers else "")
    print(f"database: {gateway.engine.url.render_as_string(hide_password=True)}")
    print(f"queue:    {broker}")
    print(f"mail:     {gateway.transport.location}")
    if not gateway.clients and not getattr(args, "ops_only", False):
        print("warning: no client keys configured, so every push is refused with 401; set GATEWAY_CLIENT_KEYS=keyid:secret", file=sys.stderr)
    try:
        asyncio.run(_serve_until_signal(gateway, args.host, args.port, workers=workers,
                                        sweep=not getattr(args, "no_scheduler", False), ops_only=getattr(args, "ops_only", False),
                                        reuse_port=getattr(args, "reuse_port", False)))
    finally:
        gateway.close()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    return _serve(args, workers=True)


def cmd_api(args: argparse.Namespace) -> int:
    return _serve(args, workers=False)


def cmd_scheduler(args: argparse.Namespace) -> int:
    args.ops_only = True
    return _serve(args, workers=False)


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from workers.runtime import WorkerRuntime

    gateway = bootstrap(upgrade_db=False)
    _setup_logging(gateway.settings.log_level, gateway.settings.log_format)
    if gateway.embedded:
        gateway.close()
        raise ConfigError("`gateway worker` consumes a shared queue: set GATEWAY_BROKER_URL to redis://… or amqp://… (without one, `gateway run` has its workers inside)")
    port = args.metrics_port if args.metrics_port is not None else gateway.settings.metrics_port
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr=args.metrics_host, registry=gateway.metrics.registry)
        print(f"metrics of this worker on http://{args.metrics_host}:{port}/metrics", flush=True)
    runtime = WorkerRuntime(gateway.broker, gateway.actors.values(), threads=args.threads or gateway.settings.worker_threads).start()
    print(f"worker consuming {', '.join(sorted(a.queue_name for a in gateway.actors.values()))} with {args.threads or gateway.settings.worker_threads} threads", flush=True)
    try:
        _wait_for_signal()
    finally:
        runtime.stop()
        gateway.close()
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from gateway.db import migrate
    from gateway.settings import load_config

    url = load_config().settings.resolved_database_url
    migrate.upgrade(url, args.revision)
    print(f"database schema at revision {migrate.current(url)}")
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from gateway.db import migrate
    from gateway.settings import load_config

    print(migrate.current(load_config().settings.resolved_database_url) or "(empty: run `gateway db upgrade`)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from contracts.schema import all_schemas

    schemas = all_schemas()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, schema in schemas.items():
            (out / f"{name}.schema.json").write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {len(schemas)} JSON Schemas to {out}/")
    else:
        print(json.dumps(schemas, ensure_ascii=False, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo.run import run_demo

    return run_demo(records=args.records, base_dir=Path(args.dir), week_start=args.week_start)


def _lazy(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gateway", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("run", help="API + workers + scheduler in one process (the embedded default)",
                       description="Serve the API, run the pipeline workers in this process (or alongside a broker's workers) and the recovery sweep. Creates and upgrades the database.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("api", help="the HTTP API only (distributed mode, needs GATEWAY_BROKER_URL)",
                       description="Serve the API and the recovery sweep; the pipeline runs in `gateway worker` processes.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-scheduler", action="store_true", help="no sweep and no schedules here (extra API replicas; one `gateway scheduler` does them)")
    p.add_argument("--reuse-port", action="store_true", help="share --port with other `gateway api` processes on this host (SO_REUSEPORT): "
                                                             "the kernel spreads the connections, each process group-commits its own")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("scheduler", help="the recovery sweep and every schedule (sync, digest, feedback, reminders), with /metrics only",
                       description="Run the background work of a deployment in one process: the recovery sweep, reminders, the nightly sync, "
                                   "the daily digest, the monthly feedback, the drop folder. Serves /metrics, /healthz and /readyz on --port. "
                                   "Run exactly one; run the API replicas with `gateway api --no-scheduler`.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9099, help="port of /metrics, /healthz, /readyz (default 9099)")
    p.set_defaults(func=cmd_scheduler)

    p = sub.add_parser("worker", help="a pipeline worker process (distributed mode, needs GATEWAY_BROKER_URL)",
                       description="Consume the pipeline queues. Run any number, on any machine sharing the database and broker.")
    p.add_argument("--threads", type=int, default=None, help="worker threads (default GATEWAY_WORKER_THREADS, 4)")
    p.add_argument("--metrics-port", type=int, default=None, help="serve this worker's /metrics on this port (default GATEWAY_METRICS_PORT; unset: none); one port per process")
    p.add_argument("--metrics-host", default="127.0.0.1", help="address of the metrics port (default 127.0.0.1)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("demo", help="push a realistic week through the embedded gateway and show where the packets went",
                       description="Start the embedded gateway in a fresh folder, push a generated week of work orders (and one urgent report) through the signed HTTP API, wait for the clue packets and show them.")
    p.add_argument("--records", type=int, default=600, help="work orders in the weekly report (default 600)")
    p.add_argument("--dir", default="gateway-demo", help="parent folder of the demo's run folders (default ./gateway-demo)")
    p.add_argument("--week-start", default=None, help="Monday of the demo week, YYYY-MM-DD (default: last week's Monday)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sync", help="pull reports from the command center once (GATEWAY_PULL_URL), page by page",
                       description="Pull GET {GATEWAY_PULL_URL}/api/v1/reports?since=… page by page, signed with GATEWAY_PULL_KEY, storing each page with its cursor. Resumes where the last run stopped. `gateway run` does this on GATEWAY_PULL_SCHEDULE by itself.")
    p.add_argument("--max-pages", type=int, default=None, help="stop after this many pages (default: until the last page)")
    p.set_defaults(func=lambda a: _lazy("gateway.cli.sync", "cmd_sync")(a))

    p = sub.add_parser("import", help="import a report file (.xlsx, .csv, .jsonl, .json) as an upload would",
                       description="Import a report file. Without --kind/--report-id they come from the file name: <kind>_<report_id>[_<start>_<end>].xlsx, e.g. 周报_TZ-2026-W47_2026-11-16_2026-11-22.xlsx. With the embedded default it also processes the report and mails the packets before it returns.")
    p.add_argument("file")
    p.add_argument("--kind", choices=["weekly", "monthly", "express", "special", "urgent"])
    p.add_argument("--report-id")
    p.add_argument("--period-start", help="YYYY-MM-DD (weekly and monthly reports)")
    p.add_argument("--period-end", help="YYYY-MM-DD")
    p.add_argument("--client-id", default="import", help="whose report it is, for idempotency (default: import)")
    p.add_argument("--partial", action="store_true", help="store the good rows and list the bad ones, instead of refusing the file")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for the packets (embedded default)")
    p.add_argument("--dry-run", action="store_true", help="show which columns are read as what, how many rows are good, the first problems "
                                                         "and the first rows as they would be stored (masked); store nothing")
    p.set_defaults(func=lambda a: _lazy("gateway.cli.imports", "cmd_import")(a))

    p = sub.add_parser("simulator", help="a command-center simulator serving the pull API, with fault injection",
                       description="Serve generated reports on the pull API and accept feedback, signed with --key. Inject faults with POST /_sim/faults {\"plan\": [\"503\", \"truncate\", \"slow\", \"duplicate\", \"drop\", \"429\", \"401\"]}.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100)
    p.add_argument("--key", required=True, help="keyid:secret the gateway signs its pulls with (its GATEWAY_PULL_KEY)")
    p.add_argument("--weeks", type=int, default=4, help="weeks of reports to serve (default 4)")
    p.add_argument("--records", type=int, default=300, help="work orders per weekly report (default 300)")
    p.set_defaults(func=lambda a: _lazy("gateway.cli.sync", "cmd_simulator")(a))

    from gateway.cli.clues import add_parsers as clue_parsers

    clue_parsers(sub)
    from gateway.cli.packets import add_parsers as packet_parsers

    packet_parsers(sub)
    from gateway.cli.reports import add_parsers as report_parsers

    report_parsers(sub)
    from gateway.cli.loop import add_parsers as loop_parsers

    loop_parsers(sub)
    from gateway.cli.users import add_parsers as user_parsers

    user_parsers(sub)

    db = sub.add_parser("db", help="database schema: upgrade, current").add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = db.add_parser("upgrade", help="create or upgrade the schema (Alembic)")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_db_upgrade)
    p = db.add_parser("current", help="print the schema revision")
    p.set_defaults(func=cmd_db_current)

    p = sub.add_parser("schema", help="write the JSON Schemas of the wire formats",
                       description="JSON Schemas of the report, work-order, receipt and problem formats, generated from the pydantic contracts.")
    p.add_argument("--out", help="folder to write <name>.schema.json files into (default: print)")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GatewayError as exc:
        print(f"gateway: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
