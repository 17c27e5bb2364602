"""`gateway reports …`: where the received reports are, the ones set aside (stuck) and why, and putting one back."""
from __future__ import annotations

import argparse

from rich.table import Table
from sqlalchemy import select

from gateway.errors import ConfigError
from gateway.ops.terminal import terminal

STATE_NAMES = {"received": "已接收", "normalized": "已整理", "routed": "已分办", "delivered": "已送达", "stuck": "已搁置（需处理）"}


def cmd_list(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.db.models import Report
    from gateway.periods import SHANGHAI
    from gateway.pipeline.stuck import stuck_reports

    gateway = bootstrap()
    try:
        with gateway.uow.read_session() as session:
            reports = stuck_reports(session) if args.stuck else list(session.scalars(select(Report).order_by(Report.id.desc()).limit(args.limit)))
        console = terminal()
        if not reports:
            console.print("no report is set aside: nothing is stuck" if args.stuck else "no report received yet")
            return 0
        table = Table(title="搁置的报告（处理后用 gateway reports retry 重新处理）" if args.stuck else "报告")
        for col in ("report", "kind", "records", "state", "received (Shanghai)", *(("set aside", "attempts", "why") if args.stuck else ())):
            table.add_column(col, overflow="fold")
        for r in reports:
            row = [r.report_id, r.kind, str(r.record_count), STATE_NAMES.get(r.state, r.state), r.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")]
            if args.stuck:
                row += [r.stuck_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if r.stuck_at else "—", str(r.failures), r.last_error or ""]
            table.add_row(*row)
        console.print(table)
        return 0
    finally:
        gateway.close()


def cmd_retry(args: argparse.Namespace) -> int:
    """Put a stuck report back where it was set aside, with its attempts counted afresh, and queue its step again."""
    from gateway.bootstrap import bootstrap
    from gateway.db.models import Report, ReportChunk, utcnow
    from gateway.pipeline.stuck import STUCK
    from gateway.queues import NORMALIZE, ROUTE, for_kind

    gateway = bootstrap()
    try:
        with gateway.uow() as uow:
            reports = list(uow.session.scalars(select(Report).where(Report.report_id == args.report_id, Report.state == STUCK)))
            if not reports:
                raise ConfigError(f"no report {args.report_id!r} is set aside; `gateway reports list --stuck` shows those that are")
            for report in reports:
                report.state, report.failures, report.stuck_at = report.state_before_stuck or "received", 0, None
                tag = f"retry:{utcnow().isoformat()}"
                if report.state == "received":
                    for seq in uow.session.scalars(select(ReportChunk.seq).where(ReportChunk.report_pk == report.id, ReportChunk.normalized_at.is_(None))):
                        uow.emit(for_kind(NORMALIZE, report.kind), f"{report.id}:{seq}:{tag}", report_pk=report.id, seq=seq)
                else:
                    uow.emit(for_kind(ROUTE, report.kind), f"{report.id}:{tag}", report_pk=report.id)
            uow.commit()
        terminal().print(f"{args.report_id}: queued again ({len(reports)} report(s)); `gateway reports list` shows how it goes")
        return 0
    finally:
        gateway.close()


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    reports = sub.add_parser("reports", help="received reports: list (--stuck: those set aside), retry",
                             description="Where the received reports are in the pipeline; the ones set aside after repeated failures "
                                         "(poison messages) with the reason; and putting one back once the cause is fixed.")
    actions = reports.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    p = actions.add_parser("list", help="the latest reports and their state; --stuck: those set aside, with why")
    p.add_argument("--stuck", action="store_true", help="only the reports set aside after repeated failures, with the reason")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("retry", help="queue a stuck report's step again (after fixing what made it fail)")
    p.add_argument("report_id")
    p.set_defaults(func=cmd_retry)
