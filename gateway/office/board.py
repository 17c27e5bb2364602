"""月报 and the SLA board of the office's pages: Table 2 on screen with its feedback push, and what the office must watch.

Nothing here decides anything again: Table 2 is `gateway.loop.table2`'s, the
.xlsx its writer's (`gateway.loop.forms_xlsx`), packets not acknowledged are
`unacknowledged_packets` (the reminder's and the gauge's query), stuck reports
`stuck_reports`, a report's detail `gateway.ops.status.report_status` (the
API's), the loop's figures `loop_figures` (the gauges'). This module only
gathers them for a page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.status import ReportStatus
from gateway.db.models import Delivery, FeedbackPush, Packet, PacketClue, Clue, Report, SyncRun, utcnow
from gateway.delivery.mail_log import PACKET_STATE_NAMES, unacknowledged_packets
from gateway.intake.pull_sync import next_run
from gateway.loop.forms_xlsx import table2_xlsx
from gateway.loop.table1 import LoopFigures, loop_figures
from gateway.loop.table2 import MonthlySummary, content_hash, feedback_document, monthly_summary, parse_month
from gateway.office.inbox import committee_short
from gateway.office.results import Bar
from gateway.ops.status import report_status
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.pipeline.stuck import stuck_reports
from gateway.errors import NotFound

PUSH_STATES = {"pending": "待推送（将自动重试）", "sent": "已推送", "failed": "被拒收（待处理后重发）"}
DELIVERY_STATES = {"failed": "发送失败（已停止重试）", "retry": "发送失败，等待重试", "pending": "待发送", "sending": "发送中", "sent": "已发送"}
REPORT_STATES = {"received": "已接收", "normalized": "已清洗", "routed": "已分办", "delivered": "已送达", "stuck": "处理受阻（已暂停）"}
SYNC_STATES = {"running": "进行中", "finished": "已完成", "failed": "失败", "interrupted": "中断（下次续传）"}
SHOWN = 50


def _when(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


@dataclass(frozen=True)
class PushLine:
    revision: int
    key: str
    state: str
    state_name: str
    attempts: int
    last_status: int | None
    last_error: str
    created: str
    sent: str


@dataclass(frozen=True)
class MonthPage:
    month: str
    previous: str
    next: str
    summary: MonthlySummary
    pushes: list[PushLine]
    changed_since_push: bool  # the month's document differs from the last one stored: the next push makes a new revision


def _shift_month(month: str, by: int) -> str:
    first, _ = parse_month(month)
    n = first.year * 12 + first.month - 1 + by
    return f"{n // 12}-{n % 12 + 1:02d}"


def month_page(session: Session, month: str) -> MonthPage:
    summary = monthly_summary(session, month)
    pushes = list(session.scalars(select(FeedbackPush).where(FeedbackPush.month == summary.month).order_by(FeedbackPush.revision.desc())))
    changed = bool(pushes) and pushes[0].content_hash != content_hash(feedback_document(session, summary.month))
    return MonthPage(
        month=summary.month, previous=_shift_month(summary.month, -1), next=_shift_month(summary.month, 1), summary=summary,
        pushes=[PushLine(p.revision, p.idempotency_key, p.state, PUSH_STATES.get(p.state, p.state), p.attempts, p.last_status,
                         mask_text(p.last_error or ""), _when(p.created_at), _when(p.sent_at)) for p in pushes],
        changed_since_push=changed,
    )


def month_xlsx(session: Session, month: str, hall: str, today: date) -> tuple[str, bytes]:
    """The month's Table 2 as the .xlsx form `gateway report monthly --xlsx` writes: its file name and bytes."""
    summary = monthly_summary(session, month)
    title = f"{hall}{summary.title_month}协商议事活动开展情况汇总表"
    return f"{title}.xlsx", table2_xlsx(title, summary.rows, summary.totals, summary.reconciliation.rows(), chinese_date(today))


@dataclass(frozen=True)
class UnackedLine:
    packet_id: str
    committee: str
    report_id: str
    delivered: str
    hours: int
    overdue: bool  # past the reminder's (催阅) hours
    clue_id: str  # its first clue, whose page shows the packet


@dataclass(frozen=True)
class DeliveryLine:
    packet_id: str
    report_id: str
    committee: str
    recipient: str
    state: str
    state_name: str
    attempts: int
    error: str
    updated: str
    next_attempt: str


@dataclass(frozen=True)
class StuckLine:
    report_id: str
    kind: str
    stuck_at: str
    failures: int
    error: str


@dataclass(frozen=True)
class SyncLine:
    run_id: int
    source: str
    state: str
    state_name: str
    started: str
    finished: str
    pages: int
    reports: int
    duplicates: int
    rejected: int
    error: str


@dataclass(frozen=True)
class Board:
    unacknowledged: list[UnackedLine]
    deliveries: list[DeliveryLine]
    stuck: list[StuckLine]
    syncs: list[SyncLine]
    last_success: str
    next_sync: str
    sync_configured: bool
    figures: LoopFigures
    bars: list[Bar]
    chase_after_h: float

    @property
    def overdue_unacknowledged(self) -> int:
        return sum(u.overdue for u in self.unacknowledged)


def _sync_line(run: SyncRun) -> SyncLine:
    return SyncLine(run.id, run.source, run.state, SYNC_STATES.get(run.state, run.state), _when(run.started_at), _when(run.finished_at), run.pages,
                    run.reports, run.duplicates, len(run.rejected or []), mask_text(run.error or ""))


def board(session: Session, routing: RoutingConfig, *, chase_after_h: float, pull_schedule: str, sync_configured: bool,
          now: datetime | None = None) -> Board:
    now = now or utcnow()
    cutoff = now - timedelta(hours=chase_after_h)
    unacked = []
    for packet, report_id in session.execute(unacknowledged_packets(now).add_columns(Report.report_id).join(Report, Report.id == Packet.report_pk)
                                             .order_by(Packet.delivered_at).limit(SHOWN)):
        clue_id = session.scalar(select(Clue.clue_id).join(PacketClue, PacketClue.clue_pk == Clue.id).where(PacketClue.packet_pk == packet.id)
                                 .order_by(PacketClue.position).limit(1)) or ""
        unacked.append(UnackedLine(packet.packet_id, committee_short(routing, packet.committee_id), report_id, _when(packet.delivered_at),
                                   int((now - packet.delivered_at).total_seconds() // 3600), packet.delivered_at < cutoff, clue_id))
    deliveries = [
        DeliveryLine(packet_id, report_id, committee_short(routing, committee), d.recipient, d.state, DELIVERY_STATES.get(d.state, d.state), d.attempts,
                     d.last_error or "", _when(d.updated_at), _when(d.next_attempt_at))
        for d, packet_id, committee, report_id in session.execute(
            select(Delivery, Packet.packet_id, Packet.committee_id, Report.report_id).join(Packet, Packet.id == Delivery.packet_pk)
            .join(Report, Report.id == Packet.report_pk).where(Delivery.state.in_(("failed", "retry")))
            .order_by(Delivery.state, Delivery.updated_at.desc()).limit(SHOWN))
    ]
    stuck = [StuckLine(r.report_id, r.kind, _when(r.stuck_at), r.failures or 0, mask_text(r.last_error or "")) for r in stuck_reports(session)[:SHOWN]]
    runs = [_sync_line(r) for r in session.scalars(select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(5))]
    last = session.scalar(select(func.max(SyncRun.finished_at)).where(SyncRun.state == "finished"))
    upcoming = ""
    if sync_configured and pull_schedule:
        upcoming = _when(next_run(pull_schedule, now))
    figures = loop_figures(session, now.astimezone(SHANGHAI).date())
    overdue = sum(u.overdue for u in unacked)
    bars = [Bar("超时未签收", overdue, "#a4161a"), Bar("未签收", len(unacked) - overdue, "#e3a6a8"),
            Bar("发送失败", sum(d.state == "failed" for d in deliveries), "#a4161a"), Bar("等待重试", sum(d.state == "retry" for d in deliveries), "#e0b04a"),
            Bar("受阻报告", len(stuck), "#a4161a"), Bar("附表1逾期未报", figures.table1_missing, "#e0b04a"),
            Bar("督办逾期", figures.supervision_overdue, "#e0b04a")]
    return Board(unacked, deliveries, stuck, runs, _when(last), upcoming, sync_configured, figures, bars, chase_after_h)


@dataclass(frozen=True)
class ReportDetail:
    status: ReportStatus
    state_name: str
    stuck_at: str
    failures: int
    error: str
    packet_states: dict[str, str]
    delivery_states: dict[str, str]


def report_detail(session: Session, routing: RoutingConfig, report_id: str) -> ReportDetail:
    """One report as `GET /api/v1/reports/{id}` has it (gateway.ops.status), and why it is stuck if it is."""
    try:
        status = report_status(session, None, report_id, routing)
    except NotFound:
        raise NotFound("没有这份报告。") from None
    report = session.scalar(select(Report).where(Report.report_id == report_id, Report.receipt_id == status.receipt_id))
    assert report is not None
    return ReportDetail(status, REPORT_STATES.get(status.state, status.state), _when(report.stuck_at), report.failures or 0,
                        mask_text(report.last_error or ""), PACKET_STATE_NAMES, DELIVERY_STATES)


def sync_runs(session: Session) -> list[SyncLine]:
    return [_sync_line(r) for r in session.scalars(select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(SHOWN))]
