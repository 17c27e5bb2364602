"""`gateway packets …` and `gateway digest`: look at, preview and re-send what went to the office."""
from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from gateway.ops.terminal import terminal
from rich.table import Table
from sqlalchemy import select

from gateway.errors import ConfigError

STATE_NAMES = {"pending": "待发送", "delivered": "已送达", "partial": "部分送达", "failed": "发送失败",
               "sending": "发送中", "retry": "待重试", "sent": "已发送", "unconfirmed": "未确认（进程中断）"}


def _packet(session, packet_id: str):  # type: ignore[no-untyped-def]
    from gateway.db.models import Packet

    packet = session.scalar(select(Packet).where(Packet.packet_id == packet_id))
    if packet is None:
        raise ConfigError(f"no packet {packet_id!r}; `gateway packets list` shows the packet ids")
    return packet


def _local(value) -> str:  # type: ignore[no-untyped-def]
    from gateway.periods import SHANGHAI

    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def cmd_list(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.db.models import Packet, Report

    gateway = bootstrap()
    try:
        table = Table(title="线索包")
        for col in ("packet", "report", "committee", "subject", "state", "created (Shanghai)", "acknowledged"):
            table.add_column(col)
        with gateway.uow.read_session() as session:
            query = select(Packet, Report.report_id).join(Report, Report.id == Packet.report_pk).order_by(Packet.id.desc()).limit(args.limit)
            if args.report:
                query = query.where(Report.report_id == args.report)
            for packet, report_id in session.execute(query):
                table.add_row(packet.packet_id, report_id, packet.committee_id, packet.subject, STATE_NAMES.get(packet.state, packet.state),
                              _local(packet.created_at), _local(packet.acknowledged_at))
        terminal().print(table)
    finally:
        gateway.close()
    return 0


def _render(gateway, packet_id: str):  # type: ignore[no-untyped-def]
    from gateway.db.models import Delivery
    from gateway.delivery.packet_email import packet_view, render_email
    from gateway.pipeline.route import message_id

    with gateway.uow.read_session() as session:
        packet = _packet(session, packet_id)
        view = packet_view(session, packet, gateway.routing)
        recipients = list(session.scalars(select(Delivery.recipient).where(Delivery.packet_pk == packet.id).order_by(Delivery.id)))
        return packet, render_email(
            view, sender=gateway.settings.mail_from, recipients=recipients or list(gateway.routing.committee(packet.committee_id).emails),
            message_id=message_id(packet.packet_id, packet.revision, gateway.settings.mail_domain), date=packet.created_at, links=gateway.ack_links,
        )


def cmd_show(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.db.models import Delivery, DeliveryLog

    gateway = bootstrap()
    console = terminal()
    try:
        packet, message = _render(gateway, args.packet_id)
        console.print(f"Subject: {message['Subject']}", highlight=False)
        console.print(f"To: {message['To']}\nMessage-ID: {message['Message-ID']}\n", highlight=False)
        body = message.get_body(preferencelist=("plain",))
        console.print(body.get_content() if body is not None else "", highlight=False, markup=False)
        table = Table(title="投递记录（send log）")
        for col in ("recipient", "attempt", "started", "finished", "result", "detail"):
            table.add_column(col)
        with gateway.uow.read_session() as session:
            rows = session.execute(
                select(Delivery.recipient, DeliveryLog).join(DeliveryLog, DeliveryLog.delivery_pk == Delivery.id)
                .where(Delivery.packet_pk == packet.id).order_by(DeliveryLog.id)
            ).all()
        for recipient, log in rows:
            table.add_row(recipient, str(log.attempt), _local(log.started_at), _local(log.finished_at),
                          STATE_NAMES.get(log.result, log.result), log.detail or "")
        console.print(table)
    finally:
        gateway.close()
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap

    if not (args.html or args.eml or args.xlsx or args.text):
        raise ConfigError("say what to write: --html FILE, --text FILE, --eml FILE and/or --xlsx FILE")
    gateway = bootstrap()
    try:
        _, message = _render(gateway, args.packet_id)
    finally:
        gateway.close()
    written = []
    if args.html:
        Path(args.html).write_text(message.get_body(preferencelist=("html",)).get_content(), encoding="utf-8")  # type: ignore[union-attr]
        written.append(args.html)
    if args.text:
        Path(args.text).write_text(message.get_body(preferencelist=("plain",)).get_content(), encoding="utf-8")  # type: ignore[union-attr]
        written.append(args.text)
    if args.eml:
        Path(args.eml).write_bytes(bytes(message))
        written.append(args.eml)
    if args.xlsx:
        (attachment,) = list(message.iter_attachments())
        Path(args.xlsx).write_bytes(attachment.get_content())
        written.append(args.xlsx)
    print("written: " + ", ".join(written))
    return 0


def cmd_resend(args: argparse.Namespace) -> int:
    """Open again the deliveries that failed (after the address was fixed), with the same Message-ID."""
    from gateway.bootstrap import bootstrap
    from gateway.delivery.resend import resend_packet

    gateway = bootstrap()
    try:
        resent = resend_packet(gateway.uow(), args.packet_id, routing=gateway.routing, mail_domain=gateway.settings.mail_domain, everyone=args.all)
    finally:
        gateway.close()
    if not resent.recipients:
        print(f"{resent.packet_id}: every configured recipient has it already; --all sends it to them again")
    else:
        print(f"{resent.packet_id}: queued again for {', '.join(resent.recipients)} (Message-ID {resent.message_id}); `gateway run` or a worker sends it")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from gateway.bootstrap import bootstrap
    from gateway.delivery.notices import build_digest, office_recipients, render_digest, send_digest
    from gateway.periods import SHANGHAI
    from gateway.db.models import utcnow

    day = date.fromisoformat(args.date) if args.date else utcnow().astimezone(SHANGHAI).date() - timedelta(days=1)
    gateway = bootstrap()
    try:
        if args.print:
            with gateway.uow.read_session() as session:
                digest = build_digest(session, gateway.routing, day, chase_after_h=gateway.settings.ack_chase_after_h, now=utcnow())
                message = render_digest(gateway.mailer, digest, office_recipients(gateway.routing))
            print(f"Subject: {message['Subject']}\n")
            print(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
            return 0
        made = send_digest(gateway.mailer, gateway.routing, day, chase_after_h=gateway.settings.ack_chase_after_h)
        print(f"digest of {day}: " + ("made and sent to " + ", ".join(office_recipients(gateway.routing)) if made else "made before; any unsent copy was retried"))
    finally:
        gateway.close()
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    packets = sub.add_parser("packets", help="clue packets: list, show, preview, resend",
                             description="Look at the clue packets (线索包) as they were mailed, re-render them, and send failed ones again.")
    actions = packets.add_subparsers(dest="packets_command", metavar="ACTION", required=True)
    p = actions.add_parser("list", help="the latest packets with their state")
    p.add_argument("--report", help="only this report id")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("show", help="subject, plain-text body and the send log of one packet")
    p.add_argument("packet_id", help="e.g. P000001-urban")
    p.set_defaults(func=cmd_show)
    p = actions.add_parser("preview", help="write the packet's HTML body, text body, whole email or spreadsheet to files",
                           description="Re-render a stored packet exactly as it is mailed (same Message-ID) and write parts of it to files.")
    p.add_argument("packet_id")
    p.add_argument("--html", metavar="FILE", help="the HTML body, to open in a browser")
    p.add_argument("--text", metavar="FILE", help="the plain-text body")
    p.add_argument("--eml", metavar="FILE", help="the whole email, to open in a mail client")
    p.add_argument("--xlsx", metavar="FILE", help="the attached spreadsheet")
    p.set_defaults(func=cmd_preview)
    p = actions.add_parser("resend", help="send a packet again to the recipients it failed for (after fixing the address)",
                           description="Re-open the failed deliveries of a packet, and add recipients newly configured for its committee; same Message-ID.")
    p.add_argument("packet_id")
    p.add_argument("--all", action="store_true", help="also to the recipients who got it")
    p.set_defaults(func=cmd_resend)

    p = sub.add_parser("digest", help="the office's daily digest: make and send it, or print it",
                       description="Everything routed on one day (Asia/Shanghai) across committees, the triage list, failed deliveries and overdue acknowledgements, mailed to the office (the triage committee's addresses). `gateway run` sends it on GATEWAY_DIGEST_SCHEDULE for the day before.")
    p.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    p.add_argument("--print", action="store_true", help="print it instead of sending it")
    p.set_defaults(func=cmd_digest)
