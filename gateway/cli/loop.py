"""The loop's commands: the blank 附表1, importing results, Table 2, supervision sheets, the feedback push."""
from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from gateway.ops.terminal import terminal
from rich.table import Table
from sqlalchemy import select

from gateway.errors import ConfigError, ValidationFailed

def cmd_template(args: argparse.Namespace) -> int:
    from gateway.settings import load_config
    from gateway.loop.forms_xlsx import table1_template

    if args.form != "table1":
        raise ConfigError("only table1 (附表1) has a blank form; Table 2 comes from `gateway report monthly`")
    hall = load_config().settings.hall_name
    out = Path(args.out or f"{hall}协商议事活动开展情况表.xlsx")
    out.write_bytes(table1_template(hall))
    print(f"written: {out} — fill one per activity, then `gateway import-results {out.name}` or upload it to /api/v1/consultations/upload")
    return 0


def cmd_import_results(args: argparse.Namespace) -> int:
    from contracts.consultations import Consultation as Table1
    from gateway.bootstrap import bootstrap
    from gateway.loop.table1 import FileTable1, file_table1
    from gateway.loop.forms_xlsx import read_table1

    path = Path(args.file)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    console = terminal()
    if path.suffix.lower() == ".xlsx":
        document = read_table1(path.read_bytes(), filename=path.name, activity_id=args.activity_id)
    elif path.suffix.lower() == ".json":
        try:
            document = Table1.model_validate_json(path.read_bytes())
        except Exception as exc:
            raise ValidationFailed(f"{path.name}: not a Table 1 document: {exc}") from exc
    else:
        raise ConfigError(f"{path.name}: import the filled 附表1 (.xlsx) or a Table 1 as .json")
    gateway = bootstrap()
    try:
        receipt, changed = file_table1(gateway.uow(), FileTable1(client_id=args.client_id, document=document, source="import"),
                                       routing=gateway.routing, calendar=gateway.calendar)
    finally:
        gateway.close()
    if not changed:
        console.print(f"{path.name}: the same as {receipt.consultation_id} revision {receipt.revision}; nothing changed")
        return 0
    console.print(f"{path.name} → {receipt.consultation_id} revision {receipt.revision}: {receipt.workstation}, {receipt.items} item(s), "
                  f"activity {receipt.activity_date}, due {receipt.due_on}, " + ("LATE" if receipt.late else "on time")
                  + (f"; supervision: {', '.join(receipt.supervision_ids)}" if receipt.supervision_ids else ""))
    if not receipt.calendar_official:
        console.print("the official calendar of that year is not known yet: the due date counts Monday to Friday plus GATEWAY_CALENDAR_FILE", style="yellow")
    return 0


def cmd_report_monthly(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.periods import SHANGHAI, chinese_date
    from gateway.db.models import utcnow
    from gateway.loop.table2 import monthly_summary, render_text
    from gateway.loop.forms_xlsx import table2_xlsx

    gateway = bootstrap()
    try:
        with gateway.uow.read_session() as session:
            summary = monthly_summary(session, args.month)
        hall = gateway.settings.hall_name
    finally:
        gateway.close()
    if args.json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
    else:
        print(render_text(summary, hall))
    if args.xlsx:
        made_on = chinese_date(utcnow().astimezone(SHANGHAI).date())
        Path(args.xlsx).write_bytes(table2_xlsx(f"{hall}{summary.title_month}协商议事活动开展情况汇总表", summary.rows, summary.totals,
                                                summary.reconciliation.rows(), made_on))
        print(f"\nwritten: {args.xlsx}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.db.models import FeedbackPush, utcnow
    from gateway.loop.feedback_push import push_month, resend
    from gateway.periods import SHANGHAI
    from gateway.loop.table2 import previous_month

    gateway = bootstrap()
    console = terminal()
    try:
        if args.feedback_command == "list":
            table = Table(title="反馈推送（feedback pushes）")
            for col in ("id", "Idempotency-Key", "state", "attempts", "last status", "last error", "sent"):
                table.add_column(col)
            with gateway.uow.read_session() as session:
                for row in session.scalars(select(FeedbackPush).order_by(FeedbackPush.id.desc())):
                    table.add_row(str(row.id), row.idempotency_key, row.state, str(row.attempts), str(row.last_status or ""), row.last_error or "",
                                  row.sent_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if row.sent_at else "")
            console.print(table)
            return 0
        if args.feedback_command == "push":
            month = args.month or previous_month(utcnow().astimezone(SHANGHAI).date())
            result = push_month(gateway.feedback(), month)
        else:
            result = resend(gateway.feedback(), args.id)
    finally:
        gateway.close()
    line = f"{result.idempotency_key}: {result.state} after {result.attempts} attempt(s)"
    if result.status:
        line += f", last answer {result.status}"
    if result.error:
        line += f" — {result.error}"
    console.print(line, highlight=False)
    if result.state == "failed":
        console.print(f"fix what the command center refused, then: gateway feedback resend {result.idempotency_key}")
    return 0 if result.state == "sent" else 1


def cmd_supervision(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.loop.supervision import import_supervision_sheet, sheet_rows, supervision_sheet

    gateway = bootstrap()
    console = terminal()
    try:
        if args.supervision_command in ("list", "export"):
            with gateway.uow.read_session() as session:
                rows = sheet_rows(session, gateway.routing, only_open=args.open)
            if args.supervision_command == "list":
                table = Table(title="督办落实情况")
                shown = ("督办编号", "协商主题", "协商建议", "责任委室", "进展情况", "办理状态", "应办结日期")
                for name in shown:
                    table.add_column(name)
                for row in rows:
                    table.add_row(*((str(row.cells[name] or "")) for name in shown))
                console.print(table)
                return 0
            Path(args.file).write_bytes(supervision_sheet(rows))
            console.print(f"written: {args.file} ({len(rows)} entries); fill 进展情况/存在问题/解决思路…, set 办理状态 to 已办结 when done, "
                          f"then `gateway supervision import {args.file}`", highlight=False)
            return 0
        path = Path(args.file)
        if not path.is_file():
            raise ConfigError(f"{path}: no such file; export one with `gateway supervision export FILE`")
        import getpass

        updated, problems = import_supervision_sheet(gateway.uow, path.read_bytes(), path.name, by=f"cli:{getpass.getuser()}")
        console.print(f"{args.file}: {updated} supervision entr{'y' if updated == 1 else 'ies'} updated", highlight=False)
        for p in problems:
            console.print(p, style="red")
        return 1 if problems else 0
    finally:
        gateway.close()


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("template", help="write a blank form: table1 (附表1 协商议事活动开展情况表)",
                       description="Write the blank 附表1 laid out like seed 000's form, with tick lists for the three outcomes.")
    p.add_argument("form", choices=["table1"])
    p.add_argument("out", nargs="?", help="file to write (default: <hall>协商议事活动开展情况表.xlsx)")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("import-results", help="file a Table 1 from a filled 附表1 (.xlsx) or a .json document",
                       description="File one consultation activity's results. Filing the same activity again (same activity id, or same date and topic) is a revision; every revision is kept.")
    p.add_argument("file")
    p.add_argument("--activity-id", help="the activity's id, if the form does not give one")
    p.add_argument("--client-id", default="office", help="who files it (default: office)")
    p.set_defaults(func=cmd_import_results)

    report = sub.add_parser("report", help="reports of the loop: monthly (附表2)").add_subparsers(dest="report_command", metavar="REPORT", required=True)
    p = report.add_parser("monthly", help="Table 2 of a month, with the reconciliation figures",
                          description="Per workstation or group and topic: items and outcomes, with totals (附表2); beside it: work orders received, clues routed, clues with a result, Table 1s late, supervision open.")
    p.add_argument("month", help="YYYY-MM, e.g. 2026-11")
    p.add_argument("--xlsx", metavar="FILE", help="also write 附表2 as a spreadsheet")
    p.add_argument("--json", action="store_true", help="print JSON instead of the text table")
    p.set_defaults(func=cmd_report_monthly)

    feedback = sub.add_parser("feedback", help="the monthly feedback to the command center: push, resend, list",
                              description="Push the month's feedback document (Table 2 and per ticket its clues and outcomes) to GATEWAY_FEEDBACK_URL, signed, with a stable Idempotency-Key; retried on timeouts, 5xx, 408 and 429.")
    actions = feedback.add_subparsers(dest="feedback_command", metavar="ACTION", required=True)
    p = actions.add_parser("push", help="make (if changed) and push a month's document")
    p.add_argument("--month", help="YYYY-MM (default: last month)")
    p.set_defaults(func=cmd_feedback)
    p = actions.add_parser("resend", help="push a stored document again, same Idempotency-Key (after a refusal was fixed)")
    p.add_argument("id", help="its number or Idempotency-Key (see `gateway feedback list`)")
    p.set_defaults(func=cmd_feedback)
    p = actions.add_parser("list", help="every document pushed, with its state")
    p.set_defaults(func=cmd_feedback)

    supervision = sub.add_parser("supervision", help="督办: list, export to and import from the supervision sheet",
                                 description="Supervision entries (one per item not resolved on site), as seed 002's 督办落实情况 sheet.")
    actions = supervision.add_subparsers(dest="supervision_command", metavar="ACTION", required=True)
    p = actions.add_parser("list", help="the entries with their progress")
    p.add_argument("--open", action="store_true", help="only those not done")
    p.set_defaults(func=cmd_supervision)
    p = actions.add_parser("export", help="write the sheet (.xlsx) to fill in")
    p.add_argument("file")
    p.add_argument("--open", action="store_true", help="only those not done")
    p.set_defaults(func=cmd_supervision)
    p = actions.add_parser("import", help="read a filled sheet back: progress, problems, way forward, 已办结")
    p.add_argument("file")
    p.set_defaults(func=cmd_supervision)
