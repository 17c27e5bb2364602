"""季度议题 (seed 003's rhythm): each quarter the office shortlists 5 preliminary topics (初步议题), then the final 2 (最终议题).

Seed 003: by the 15th of the quarter's first month (每季度第一个月的15日前) the
topics members, communities and the party committee proposed are merged, 5
preliminary topics agreed and 2 final ones chosen. The page proposes the
hottest clues of the quarter before and of this one (one per topic: a topic
continues from report to report), with their topic's weekly volume. A
deadline that falls on a day off moves to the next working day of the official
calendar (民法典 第二百零三条, as the project's calendar counts working days);
the reminder counts the working days left, the overdue mark the working days
past. Every mark is kept with who and when, and written to the audit log.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from gateway.db.models import Clue, QuarterTopic, Report, utcnow
from gateway.errors import NotFound, ValidationFailed
from gateway.office.accounts import Viewer, audit
from gateway.office.inbox import committee_short
from gateway.office.results import Activity, Bar, activities_on, covered_until, office_only, topic_clue_ids, week_start, weekly_volume
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.routing_rules import CLUE_TYPES, RoutingConfig
from gateway.workdays import WorkCalendar

PRELIMINARY = 5
FINAL = 2
DEADLINE_DAY = 15
SOON = 3  # working days: the reminder turns red
PROPOSED = 20
TREND_WEEKS = 13
NOTE_MAX = 1000
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_NAMES = "一二三四"


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> tuple[int, int]:
    m = _QUARTER.fullmatch(text.strip())
    if not m:
        raise NotFound("季度格式应为 2026-Q4。")
    return int(m[1]), int(m[2])


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """The quarter's first day and the first day of the next."""
    year, q = parse_quarter(quarter)
    first = date(year, 3 * q - 2, 1)
    return first, date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)


def shifted(quarter: str, by: int) -> str:
    year, q = parse_quarter(quarter)
    n = year * 4 + q - 1 + by
    return f"{n // 4}-Q{n % 4 + 1}"


def quarter_name(quarter: str) -> str:
    year, q = parse_quarter(quarter)
    return f"{year}年第{_NAMES[q - 1]}季度"


def deadline(calendar: WorkCalendar, quarter: str) -> date:
    """The 15th of the quarter's first month; on a day off, the next working day."""
    day = quarter_bounds(quarter)[0].replace(day=DEADLINE_DAY)
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    return day


def _working_days_between(calendar: WorkCalendar, after: date, until: date) -> int:
    """Working days d with after < d <= until."""
    n, day = 0, after
    while day < until:
        day += timedelta(days=1)
        n += calendar.is_workday(day)
    return n


@dataclass(frozen=True)
class DeadlineState:
    due: date
    state: str  # done, done_late, open, soon, overdue
    text: str
    working_days: int  # left (open, soon) or past (overdue, done_late)

    @property
    def due_text(self) -> str:
        return chinese_date(self.due)


def deadline_state(calendar: WorkCalendar, quarter: str, today: date, finals: list[datetime | None]) -> DeadlineState:
    """The reminder, or the overdue mark, of choosing the quarter's final topics, in working days of the official calendar."""
    due = deadline(calendar, quarter)
    if len(finals) >= FINAL:
        chosen = max(at for at in finals if at is not None).astimezone(SHANGHAI).date()
        if chosen <= due:
            return DeadlineState(due, "done", f"已于{chinese_date(chosen)}确定本季度最终议题（截止日期{chinese_date(due)}）。", 0)
        late = _working_days_between(calendar, due, chosen)
        return DeadlineState(due, "done_late", f"已于{chinese_date(chosen)}确定本季度最终议题，超过截止日期{late}个工作日。", late)
    if today > due:
        past = _working_days_between(calendar, due, today)
        return DeadlineState(due, "overdue", f"已逾期：应于{chinese_date(due)}前确定最终议题，已超过{past}个工作日，"
                                             f"尚差{FINAL - len(finals)}个最终议题。", past)
    left = _working_days_between(calendar, today, due)
    text = "今日截止" if left == 0 else f"距截止还有{left}个工作日"
    return DeadlineState(due, "soon" if left <= SOON else "open",
                         f"提醒：本季度议题应于{chinese_date(due)}前确定（{text}），"
                         f"尚差{FINAL - len(finals)}个最终议题。", left)


@dataclass(frozen=True)
class Proposal:
    clue_id: str
    title: str
    type_name: str
    committee: str
    score: float
    work_orders: int
    trend: str
    period: str
    bars: list[Bar]
    marked: bool
    final: bool


@dataclass(frozen=True)
class Chosen:
    clue_id: str
    title: str
    committee: str
    note: str
    marked_by: str
    marked_at: str
    final: bool
    final_by: str
    final_at: str
    activities: list[Activity]


@dataclass(frozen=True)
class QuarterPage:
    quarter: str
    name: str
    previous: str
    next: str
    window: str
    deadline: DeadlineState
    proposals: list[Proposal]
    chosen: list[Chosen]
    preliminary_left: int
    final_left: int

    @property
    def finals(self) -> list[Chosen]:
        return [c for c in self.chosen if c.final]


def _when(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


def _candidates(session: Session, first: date, following: date) -> list[Clue]:
    """The hottest clue of each topic among the clues of reports whose period (else, when the clue was made) falls in the window."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=SHANGHAI)
    end = datetime.combine(following, datetime.min.time(), tzinfo=SHANGHAI)
    in_window = or_(and_(Report.period_start.is_not(None), Report.period_start >= first, Report.period_start < following),
                    and_(Report.period_start.is_(None), Clue.created_at >= start, Clue.created_at < end))
    out: list[Clue] = []
    topics: set[int] = set()
    for clue in session.scalars(select(Clue).join(Report, Report.id == Clue.report_pk).where(in_window)
                                .order_by(Clue.score.desc(), Clue.id.desc()).limit(PROPOSED * 20)):
        if clue.topic_pk is not None:
            if clue.topic_pk in topics:
                continue
            topics.add(clue.topic_pk)
        out.append(clue)
        if len(out) == PROPOSED:
            break
    return out


def quarter_page(session: Session, viewer: Viewer, routing: RoutingConfig, calendar: WorkCalendar, quarter: str, today: date) -> QuarterPage:
    office_only(viewer)
    first, following = quarter_bounds(quarter)
    window_start = quarter_bounds(shifted(quarter, -1))[0]
    marks = {m.clue_pk: m for m in session.scalars(select(QuarterTopic).where(QuarterTopic.quarter == quarter).order_by(QuarterTopic.id))}
    candidates = _candidates(session, window_start, following)
    marked_clues = {c.id: c for c in session.scalars(select(Clue).where(Clue.id.in_(list(marks))))} if marks else {}

    trend_end = min(following - timedelta(days=1), covered_until(session) or today, today)
    trend_start = week_start(trend_end) - timedelta(weeks=TREND_WEEKS - 1)
    volume = weekly_volume(session, sorted({c.topic_pk for c in candidates if c.topic_pk is not None}), trend_start, trend_end)

    proposals = []
    for clue in candidates:
        weeks = volume.get(clue.topic_pk, {}) if clue.topic_pk is not None else {}
        bars = [Bar(w.strftime("%m-%d"), n, "#9fb4d3", f"{chinese_date(w)}起一周：{n}件") for w, n in weeks.items()]
        mark = marks.get(clue.id)
        proposals.append(Proposal(clue.clue_id, clue.title, CLUE_TYPES.get(clue.clue_type, clue.clue_type), committee_short(routing, clue.committee_id),
                                  clue.score, clue.work_order_count, clue.trend, clue.period_label, bars, mark is not None,
                                  bool(mark and mark.final)))
    chosen = []
    for pk, mark in marks.items():
        clue = marked_clues[pk]
        chosen.append(Chosen(clue.clue_id, clue.title, committee_short(routing, clue.committee_id), mark.note, mark.marked_by, _when(mark.marked_at),
                             mark.final, mark.final_by or "", _when(mark.final_at),
                             activities_on(session, topic_clue_ids(session, clue)) if mark.final else []))
    chosen.sort(key=lambda c: (not c.final, c.marked_at))
    finals = [m.final_at for m in marks.values() if m.final]
    return QuarterPage(
        quarter=quarter, name=quarter_name(quarter), previous=shifted(quarter, -1), next=shifted(quarter, 1),
        window=f"{chinese_date(window_start)}至{chinese_date(following - timedelta(days=1))}",
        deadline=deadline_state(calendar, quarter, today, finals), proposals=proposals, chosen=chosen,
        preliminary_left=PRELIMINARY - len(marks), final_left=FINAL - len(finals),
    )


def _clue(session: Session, clue_id: str) -> Clue:
    clue = session.scalar(select(Clue).where(Clue.clue_id == clue_id))
    if clue is None:
        raise NotFound("没有这条线索，请从季度议题页面选择。")
    return clue


def _mark(session: Session, quarter: str, clue: Clue) -> QuarterTopic | None:
    return session.scalar(select(QuarterTopic).where(QuarterTopic.quarter == quarter, QuarterTopic.clue_pk == clue.id))


def _marked(session: Session, viewer: Viewer, quarter: str, clue_id: str) -> tuple[Clue, QuarterTopic | None]:
    """For the office only: the clue and its mark in the quarter, if it has one."""
    office_only(viewer)
    clue = _clue(session, clue_id)
    return clue, _mark(session, quarter, clue)


def _note(text: str) -> str:
    text = text.strip()
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"说明不能超过{NOTE_MAX}字。")
    return mask_text(text)


def mark_preliminary(session: Session, viewer: Viewer, quarter: str, clue_id: str, note: str = "") -> None:
    """列为初步议题: at most 5 a quarter, one clue per topic. Commits."""
    office_only(viewer)
    parse_quarter(quarter)
    clue = _clue(session, clue_id)
    if _mark(session, quarter, clue) is not None:
        raise ValidationFailed("这条线索已列为本季度初步议题。")
    marks = list(session.scalars(select(QuarterTopic).where(QuarterTopic.quarter == quarter)))
    if len(marks) >= PRELIMINARY:
        raise ValidationFailed(f"本季度已列{PRELIMINARY}个初步议题，已达上限。如需调整，请先撤销其中一个。")
    if clue.topic_pk is not None and any(m.topic_pk == clue.topic_pk for m in marks):
        raise ValidationFailed("同一议题的另一条线索已列为本季度初步议题。")
    now, text = utcnow(), _note(note)
    session.add(QuarterTopic(quarter=quarter, clue_pk=clue.id, topic_pk=clue.topic_pk, note=text, marked_by=viewer.username, marked_at=now, final=False))
    audit(session, "quarter_preliminary", username=viewer.username, target=f"{quarter}/{clue.clue_id}", at=now, note=text)
    session.commit()


def unmark_preliminary(session: Session, viewer: Viewer, quarter: str, clue_id: str) -> None:
    clue, mark = _marked(session, viewer, quarter, clue_id)
    if mark is None:
        raise ValidationFailed("这条线索不是本季度初步议题。")
    if mark.final:
        raise ValidationFailed("这是本季度最终议题，请先撤销最终议题。")
    session.delete(mark)
    audit(session, "quarter_preliminary_undo", username=viewer.username, target=f"{quarter}/{clue.clue_id}")
    session.commit()


def mark_final(session: Session, viewer: Viewer, quarter: str, clue_id: str, note: str) -> None:
    """确定为最终议题: one of the preliminary topics, at most 2 a quarter, with a note. Commits."""
    clue, mark = _marked(session, viewer, quarter, clue_id)
    if mark is None:
        raise ValidationFailed("最终议题须从本季度初步议题中确定，请先列为初步议题。")
    if mark.final:
        raise ValidationFailed("这条线索已确定为本季度最终议题。")
    finals = session.scalars(select(QuarterTopic).where(QuarterTopic.quarter == quarter, QuarterTopic.final.is_(True))).all()
    if len(finals) >= FINAL:
        raise ValidationFailed(f"本季度已确定{FINAL}个最终议题，已达上限。如需调整，请先撤销其中一个。")
    text = _note(note)
    if not text:
        raise ValidationFailed("请填写确定为最终议题的说明（如研究意见、承办工作站）。")
    now = utcnow()
    mark.final, mark.final_by, mark.final_at, mark.note = True, viewer.username, now, text
    audit(session, "quarter_final", username=viewer.username, target=f"{quarter}/{clue.clue_id}", at=now, note=text)
    session.commit()


def unmark_final(session: Session, viewer: Viewer, quarter: str, clue_id: str) -> None:
    clue, mark = _marked(session, viewer, quarter, clue_id)
    if mark is None or not mark.final:
        raise ValidationFailed("这条线索不是本季度最终议题。")
    mark.final, mark.final_by, mark.final_at = False, None, None
    audit(session, "quarter_final_undo", username=viewer.username, target=f"{quarter}/{clue.clue_id}")
    session.commit()
