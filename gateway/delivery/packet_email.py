"""What a clue packet (线索包) says: its view, its email and its spreadsheet.

The view is built from the database alone, so a packet re-rendered after a
crash is the same email with the same Message-ID.
"""
from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.delivery.mail_log import one_line
from gateway.sheets import row_values
from gateway.delivery.acknowledge import AckLinks
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.clues import type_name
from gateway.db.models import Clue, Packet, PacketClue, Report, ReportWorkOrder, WorkOrder
from gateway.periods import SHANGHAI, KIND_NAMES, chinese_date
from gateway.pipeline.routing_rules import RoutingConfig

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class ClueView:
    clue_id: str
    type_name: str
    title: str
    committee: str
    copy: bool
    triage: bool
    work_orders: int
    citizens: int
    issues: int
    reason: str
    score: float
    places: str
    period: str
    trend: str
    samples: list[str]
    ticket_nos: list[str]
    workstations: list[str]
    keywords: list[str] = field(default_factory=list)
    named_places: str = ""
    shared_with: str = ""
    likes: int = 0
    rank: int = 0
    span: str = ""


@dataclass(frozen=True)
class PacketSummary:
    """What the packet's committee got of the report beyond its clues (汇总情况)."""

    work_orders: int
    in_clues: int
    small_topics: int
    small_topic_orders: int
    categories: list[tuple[str, int]]


SHOWN_IN_FULL = 10  # clues written out in the email; the rest are listed by title (all are in the spreadsheet)


@dataclass(frozen=True)
class PacketView:
    packet_id: str
    revision: int
    subject: str
    committee_name: str
    committee_short: str
    report_id: str
    report_kind: str
    report_title: str | None
    report_summary: str | None
    period: str
    urgent: bool
    created_on: str
    clues: list[ClueView]
    summary: PacketSummary | None = None

    @property
    def in_full(self) -> list[ClueView]:
        return self.clues[:SHOWN_IN_FULL]

    @property
    def listed(self) -> list[ClueView]:
        return self.clues[SHOWN_IN_FULL:]

    @property
    def source_line(self) -> str:
        """周报（2026年第47周）《…》 / 快报（2026年11月21日）《…》: the report as the office names it."""
        named = self.period if self.period.startswith(self.report_kind) else f"{self.report_kind}（{self.period}）"
        return named + (f"《{self.report_title}》" if self.report_title else "")

    @property
    def work_orders(self) -> int:
        return sum(c.work_orders for c in self.clues if not c.copy)


def _places_text(places: list[dict[str, object]], key: str = "street") -> str:
    return "、".join(f"{p[key]}（{p['count']}件）" for p in places[:6]) + ("等" if len(places) > 6 else "")


def _span_text(first: datetime | None, last: datetime | None) -> str:
    if first is None or last is None:
        return ""
    a, b = first.astimezone(SHANGHAI).date(), last.astimezone(SHANGHAI).date()
    return chinese_date(a) if a == b else f"{chinese_date(a)}至{chinese_date(b)}"


def packet_summary(session: Session, packet: Packet) -> PacketSummary:
    """The committee's work orders of the report: how many are in clues, how many in topics too small to be one, by category."""
    wo, rwo = WorkOrder.__table__.c, ReportWorkOrder.__table__.c
    rows = session.execute(
        select(wo.category, wo.topic_pk, rwo.clue_pk).join(ReportWorkOrder.__table__, rwo.work_order_pk == wo.id)
        .where(rwo.report_pk == packet.report_pk, rwo.excluded_reason.is_(None), wo.committee_id == packet.committee_id)
    ).all()
    categories: Counter[str] = Counter("·".join((category or [])[:2]) or "未分类" for category, _, _ in rows)
    small = {topic for _, topic, clue in rows if clue is None and topic is not None}
    return PacketSummary(
        work_orders=len(rows), in_clues=sum(1 for *_, clue in rows if clue is not None), small_topics=len(small),
        small_topic_orders=sum(1 for _, topic, clue in rows if clue is None), categories=categories.most_common(8),
    )


def packet_view(session: Session, packet: Packet, routing: RoutingConfig) -> PacketView:
    report = session.get(Report, packet.report_pk)
    assert report is not None
    committee = routing.committee(packet.committee_id)
    rows = session.execute(
        select(Clue, PacketClue.copy).join(PacketClue, PacketClue.clue_pk == Clue.id)
        .where(PacketClue.packet_pk == packet.id).order_by(PacketClue.position)
    ).all()
    clues = [
        ClueView(
            clue_id=clue.clue_id, type_name=type_name(clue.clue_type), title=clue.title,
            committee=routing.committee(clue.committee_id).short, copy=copy, triage=clue.triage,
            work_orders=clue.work_order_count, citizens=clue.citizen_count, issues=clue.issue_count, reason=clue.reason,
            score=clue.score, places=_places_text(clue.places),
            period=clue.period_label, trend=clue.trend, samples=list(clue.samples), ticket_nos=list(clue.ticket_nos),
            workstations=list(clue.workstations), keywords=list(clue.keywords or []),
            named_places=_places_text(clue.named_places or [], "place"),
            shared_with="、".join(_short(routing, c) for c in [clue.committee_id, *(clue.shared_with or [])] if c != packet.committee_id)
            if clue.shared_with else "",
            likes=clue.likes, rank=clue.rank, span=_span_text(clue.first_received_at, clue.last_received_at),
        )
        for clue, copy in rows
    ]
    return PacketView(
        packet_id=packet.packet_id, revision=packet.revision, subject=packet.subject,
        committee_name=committee.name, committee_short=committee.short, report_id=report.report_id,
        report_kind=KIND_NAMES.get(report.kind, report.kind), report_title=report.title, report_summary=mask_text(report.summary) if report.summary else None,
        period=clues[0].period if clues else "", urgent=packet.urgent,
        created_on=chinese_date(packet.created_at.astimezone(SHANGHAI).date()), clues=clues, summary=packet_summary(session, packet),
    )


def _short(routing: RoutingConfig, committee_id: str) -> str:
    try:
        return routing.committee(committee_id).short
    except KeyError:
        return committee_id


def template_environment() -> Environment:
    """The gateway's Jinja2 templates (gateway/templates): HTML ones escaped, a missing value an error, not a blank."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


XLSX_COLUMNS = [
    ("线索编号", 16), ("线索类型", 18), ("标题", 40), ("类型依据", 36), ("承办委室", 12), ("工作站（活动组）", 28),
    ("工单数", 8), ("问题数", 8), ("涉及群众", 9), ("关注度评分", 10), ("涉及地点", 30), ("时段", 16), ("趋势", 22),
    ("诉求摘录（已脱敏）", 60), ("工单编号", 40), ("热度排名", 9), ("关键词", 24), ("具体地点", 30), ("点赞及重复反映", 10), ("共同关注委室", 14),
]


def packet_xlsx(view: PacketView) -> bytes:
    """One row per clue, header frozen, widths set, so it opens ready to read."""
    wb = Workbook()
    ws = wb.active
    ws.title = "线索清单"
    ws.append([name for name, _ in XLSX_COLUMNS])
    for col, (_, width) in enumerate(XLSX_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        ws.column_dimensions[cell.column_letter].width = width
    for clue in view.clues:
        ws.append(row_values([
            clue.clue_id, clue.type_name + ("（抄送）" if clue.copy else ""), clue.title, clue.reason, clue.committee,
            "、".join(clue.workstations), clue.work_orders, clue.issues, clue.citizens, clue.score, clue.places, clue.period, clue.trend,
            "\n".join(f"{i}. {s}" for i, s in enumerate(clue.samples, 1)),
            "、".join(clue.ticket_nos) + (f"等{clue.work_orders}件" if clue.work_orders > len(clue.ticket_nos) else ""),
            clue.rank or None, "、".join(clue.keywords), clue.named_places, clue.likes, clue.shared_with,
        ]))
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class AckLink:
    url: str
    expires_on: str


def render_email(view: PacketView, *, sender: str, recipients: list[str], message_id: str, date: datetime,
                 links: AckLinks | None = None) -> EmailMessage:
    """The packet as one email: plain text and HTML alternatives, the spreadsheet attached."""
    env = template_environment()
    ack = None
    if links is not None:
        ack = AckLink(links.url(view.packet_id, view.revision, date), chinese_date(links.expires_at(date).astimezone(SHANGHAI).date()))
    msg = EmailMessage()
    msg["Subject"] = one_line(view.subject)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(date.astimezone(SHANGHAI))
    msg["Message-ID"] = message_id
    msg["X-Gateway-Packet"] = f"{view.packet_id}; revision={view.revision}"
    msg.set_content(env.get_template("packet.txt.j2").render(p=view, ack=ack))
    msg.add_alternative(env.get_template("packet.html.j2").render(p=view, ack=ack), subtype="html")
    msg.add_attachment(
        packet_xlsx(view), maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=f"线索包-{view.committee_short}-{view.period}.xlsx",
    )
    return msg
