"""The month: Table 2 (附表2), the reconciliation beside it, and the feedback document for the command center."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from gateway.db.models import Clue, Consultation, ConsultationItem, Report, ReportWorkOrder, Supervision, WorkOrder
from gateway.errors import ValidationFailed
from gateway.periods import SHANGHAI

OUTCOMES = ("on_site", "short_term", "unresolved")


def parse_month(text: str) -> tuple[date, date]:
    """'2026-11' → first day, first day of the next month."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValidationFailed(f"month {text!r}: write it as YYYY-MM, e.g. 2026-11")
    first = date(int(m[1]), int(m[2]), 1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, following


def _utc_bounds(first: date, following: date) -> tuple[datetime, datetime]:
    return datetime.combine(first, time.min, tzinfo=SHANGHAI), datetime.combine(following, time.min, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Reconciliation:
    work_orders_received: int
    clues_routed: int
    clues_with_result: int
    table1_received: int
    table1_late: int
    supervision_open: int
    work_orders_closed: int = 0
    work_orders_closed_in_time: int = 0

    def rows(self) -> list[tuple[str, int]]:
        return [("本月收到工单（件）", self.work_orders_received), ("其中热线已办结（件）", self.work_orders_closed),
                ("其中在处理时限内办结（件）", self.work_orders_closed_in_time), ("本月分办线索（条）", self.clues_routed),
                ("其中已有协商结果的线索（条）", self.clues_with_result), ("本月活动情况表（附表1）收到（份）", self.table1_received),
                ("其中逾期报送（份）", self.table1_late), ("督办事项尚未办结（件，截至目前）", self.supervision_open)]


@dataclass(frozen=True)
class MonthlySummary:
    month: str
    rows: list[dict[str, Any]]
    totals: dict[str, int]
    reconciliation: Reconciliation

    @property
    def title_month(self) -> str:
        year, month = self.month.split("-")
        return f"{int(year)}年{int(month)}月"

    def as_json(self) -> dict[str, Any]:
        return {"month": self.month, "rows": self.rows, "totals": self.totals, "reconciliation": asdict(self.reconciliation)}


def monthly_summary(session: Session, month: str) -> MonthlySummary:
    first, following = parse_month(month)
    start, end = _utc_bounds(first, following)
    counts = session.execute(
        select(Consultation.workstation, Consultation.topic, ConsultationItem.outcome, func.count())
        .join(ConsultationItem, ConsultationItem.consultation_pk == Consultation.id)
        .where(Consultation.activity_date >= first, Consultation.activity_date < following, Consultation.planned.is_(False))
        .group_by(Consultation.workstation, Consultation.topic, ConsultationItem.outcome)
        .order_by(Consultation.workstation, Consultation.topic)
    ).all()
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for workstation, topic, outcome, n in counts:
        row = by_key.setdefault((workstation, topic), {"workstation": workstation, "topic": topic, "items": 0, **{o: 0 for o in OUTCOMES}})
        row[outcome] += n
        row["items"] += n
    rows = list(by_key.values())
    totals = {k: sum(r[k] for r in rows) for k in ("items", *OUTCOMES)}

    clue_ids = set(session.scalars(select(Clue.clue_id).where(Clue.created_at >= start, Clue.created_at < end)))
    with_result: set[str] = set()
    for (ids,) in session.execute(select(ConsultationItem.clue_ids)):
        with_result.update(i for i in ids if i in clue_ids)
    received = session.execute(
        select(func.count(), func.coalesce(func.sum(case((Consultation.late.is_(True), 1), else_=0)), 0))
        .where(Consultation.received_at >= start, Consultation.received_at < end)
    ).one()
    months_orders = (select(func.distinct(ReportWorkOrder.work_order_pk)).join(Report, Report.id == ReportWorkOrder.report_pk)
                     .where(Report.received_at >= start, Report.received_at < end))
    closed, in_time = _closed(session, months_orders)
    reconciliation = Reconciliation(
        work_orders_received=session.scalar(select(func.count()).select_from(months_orders.subquery())) or 0,
        work_orders_closed=closed,
        work_orders_closed_in_time=in_time,
        clues_routed=len(clue_ids),
        clues_with_result=len(with_result),
        table1_received=int(received[0]),
        table1_late=int(received[1]),
        supervision_open=session.scalar(select(func.count()).select_from(Supervision).where(Supervision.state == "open")) or 0,
    )
    return MonthlySummary(month=f"{first.year}-{first.month:02d}", rows=rows, totals=totals, reconciliation=reconciliation)


def _closed(session: Session, orders: Select[Any]) -> tuple[int, int]:
    """Of these work orders: closed by the hotline (a 办结时间, or status closed), and closed within their 处理时限."""
    closed = in_time = 0
    query = (select(WorkOrder.received_at, WorkOrder.closed_at, WorkOrder.time_limit_days)
             .where(WorkOrder.id.in_(orders), or_(WorkOrder.closed_at.is_not(None), WorkOrder.status == "closed")))
    for received_at, closed_at, limit in session.execute(query.execution_options(yield_per=5000)):
        closed += 1
        in_time += closed_at is not None and limit is not None and closed_at - received_at <= timedelta(days=limit)
    return closed, in_time


def render_text(summary: MonthlySummary, hall: str = "协商议事厅") -> str:
    """Table 2 as plain text, for the terminal and the closing note."""
    head = ["委员工作站（室）或活动组", "协商议事主题", "事项", "现场解决", "短期解决", "未解决"]
    body = [[r["workstation"], r["topic"], r["items"], r["on_site"], r["short_term"], r["unresolved"]] for r in summary.rows]
    body.append(["合计", "", *(summary.totals[k] for k in ("items", *OUTCOMES))])

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    table = [head, *[[str(v) for v in row] for row in body]]
    widths = [max(width(row[i]) for row in table) for i in range(len(head))]
    lines = [f"{hall}{summary.title_month}协商议事活动开展情况汇总表（附表2）", ""]
    for row in table:
        lines.append("  ".join(cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)).rstrip())
    lines += ["", "核对数据："] + [f"  {name}：{value}" for name, value in summary.reconciliation.rows()]
    return "\n".join(lines)


def feedback_document(session: Session, month: str) -> dict[str, Any]:
    """INTEGRATION.md section 3: Table 2 rows, and per ticket the clues it fed and the outcomes that touched it."""
    summary = monthly_summary(session, month)
    first, following = parse_month(month)
    start, end = _utc_bounds(first, following)
    tickets: dict[str, dict[str, Any]] = {}
    for clue_id, ticket_nos in session.execute(select(Clue.clue_id, Clue.ticket_nos).where(Clue.created_at >= start, Clue.created_at < end).order_by(Clue.id)):
        for t in ticket_nos:
            tickets.setdefault(t, {"ticket_no": t, "clues": [], "outcomes": []})["clues"].append(clue_id)
    items = session.execute(
        select(Consultation.consultation_id, Consultation.revision, Consultation.workstation, Consultation.activity_date, ConsultationItem.seq,
               ConsultationItem.outcome, ConsultationItem.ticket_nos)
        .join(ConsultationItem, ConsultationItem.consultation_pk == Consultation.id)
        .where(Consultation.activity_date >= first, Consultation.activity_date < following).order_by(Consultation.id, ConsultationItem.seq)
    ).all()
    for consultation_id, revision, workstation, activity_date, seq, outcome, ticket_nos in items:
        for t in ticket_nos:
            tickets.setdefault(t, {"ticket_no": t, "clues": [], "outcomes": []})["outcomes"].append({
                "consultation_id": consultation_id, "revision": revision, "item": seq, "workstation": workstation,
                "activity_date": activity_date.isoformat(), "outcome": outcome,
            })
    return {"month": summary.month, "table2": {"rows": summary.rows, "totals": summary.totals},
            "reconciliation": asdict(summary.reconciliation), "tickets": [tickets[t] for t in sorted(tickets)]}


def content_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"
