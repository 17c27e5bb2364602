"""Results and their effect (seed 004: 评、交、办、督、复, results made public): the topic's volume before and after, 评, publication.

A clue's result is what the filed Table 1s (附表1, not merely announced) that
name a clue of its topic did: the hotline volume of that topic, week by week
(work_orders.topic_pk, Asia/Shanghai weeks from Monday), before and after the
first such activity, as far as the reports received so far cover (their
periods). The office records its evaluation (评) and may publish it; what
`/public/results` shows goes through `public_text` (masked, no ticket numbers)
and names nobody.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contracts.consultations import Outcome
from gateway.db.models import Clue, Consultation, ConsultationItem, Report, ResultEvaluation, Topic, WorkOrder, utcnow
from gateway.errors import Forbidden, NotFound, ValidationFailed
from gateway.office.accounts import Viewer, audit
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.privacy import mask_text

WEEKS_BEFORE = 8
WEEKS_AFTER = 8
TEXT_MAX = 2000
RATINGS = {"effective": "成效明显", "partial": "初见成效", "none": "尚未见效"}
OUTCOME_SHORT = {Outcome.on_site.value: "现场解决", Outcome.short_term.value: "短期内协调解决", Outcome.unresolved.value: "转社情民意或提案"}
# A ticket number, a clue id or any other identifier someone typed: letters and digits, at least six digits in a run.
_IDENTIFIER = re.compile(r"[A-Za-z]*-?\d{6,}[A-Za-z0-9-]*|[A-Za-z]{1,4}\d*-\d+(?:-\d+)*")
# What the masker left of a phone, a plate, an account (138****5678): on a public page not even that.
_MASKED = re.compile(r"[0-9A-Za-z]*\*{2,}[0-9A-Za-z]*")


def office_only(viewer: Viewer) -> None:
    if viewer.role != "office":
        raise Forbidden("此功能仅限区政协办公室使用。")


def public_text(text: str, names: tuple[str, ...] = ()) -> str:
    """What a public page may show of a text: masked (names, phones, addresses…), without what is left of a masked number, ticket numbers or other identifiers."""
    return _IDENTIFIER.sub("[编号]", _MASKED.sub("[已隐去]", mask_text(text or "", names)))


def _names(document: dict[str, object]) -> list[str]:
    """The people a Table 1 names: its members, the responsible person, the committee director, each item's responsible."""
    names = [*(document.get("members") or [])]  # type: ignore[misc]
    names += [document.get(k) for k in ("responsible_person", "committee_director")]
    names += [item.get("responsible") for item in document.get("items") or [] if isinstance(item, dict)]  # type: ignore[union-attr]
    return [str(n) for n in names if n]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def covered_until(session: Session) -> date | None:
    """The last day the reports received so far cover: the latest period end, else the latest work order received."""
    end = session.scalar(select(func.max(Report.period_end)))
    latest = session.scalar(select(func.max(WorkOrder.received_at)))
    last = latest.astimezone(SHANGHAI).date() if latest is not None else None
    return max(d for d in (end, last) if d is not None) if end or last else None


def weekly_volume(session: Session, topic_pks: list[int], first: date, last: date) -> dict[int, dict[date, int]]:
    """Per topic: its work orders per week (the Monday, Asia/Shanghai) from the week of `first` to the week of `last`, zeros included."""
    weeks = []
    monday = week_start(first)
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    out: dict[int, dict[date, int]] = {pk: dict.fromkeys(weeks, 0) for pk in topic_pks}
    if not topic_pks or not weeks:
        return out
    start = datetime.combine(weeks[0], time.min, tzinfo=SHANGHAI)
    end = datetime.combine(weeks[-1] + timedelta(days=7), time.min, tzinfo=SHANGHAI)
    for topic_pk, received in session.execute(select(WorkOrder.topic_pk, WorkOrder.received_at).where(
            WorkOrder.topic_pk.in_(topic_pks), WorkOrder.received_at >= start, WorkOrder.received_at < end)):
        week = week_start(received.astimezone(SHANGHAI).date())
        if week in out[topic_pk]:
            out[topic_pk][week] += 1
    return out


@dataclass(frozen=True)
class Bar:
    """One bar of a chart (gateway/templates/office/charts.html.j2)."""

    label: str
    count: int
    fill: str
    title: str = ""


@dataclass(frozen=True)
class Activity:
    consultation_id: str
    workstation: str
    activity_date: date
    topic: str
    items: int
    outcomes: str  # 现场解决2项、…
    late: bool
    names: tuple[str, ...] = ()  # the people its Table 1 names: masked wherever a text mentions them, never shown

    @property
    def date_text(self) -> str:
        return chinese_date(self.activity_date)


@dataclass(frozen=True)
class Effect:
    """The topic's weekly volume around the first activity, and the averages before and after."""

    activity_date: date
    bars: list[Bar]
    marker: int  # index of the activity's week among the bars
    before_avg: float
    after_avg: float | None
    after_weeks: int
    summary: str


@dataclass(frozen=True)
class Evaluation:
    rating: str
    rating_name: str
    text: str
    by: str
    at: str
    published: bool
    published_by: str
    published_at: str


@dataclass(frozen=True)
class ClueResult:
    activities: list[Activity]
    effect: Effect | None
    evaluation: Evaluation | None
    ratings: dict[str, str] = field(default_factory=lambda: dict(RATINGS))


def topic_clue_ids(session: Session, clue: Clue) -> set[str]:
    """The clue and the other clues of its topic (a topic continues from report to report)."""
    if clue.topic_pk is None:
        return {clue.clue_id}
    return set(session.scalars(select(Clue.clue_id).where(Clue.topic_pk == clue.topic_pk))) | {clue.clue_id}


def activities_on(session: Session, clue_ids: set[str]) -> list[Activity]:
    """The filed Table 1s (not those only announced) with an item naming one of these clues, oldest first; their topics masked."""
    rows = session.execute(select(Consultation, ConsultationItem.outcome, ConsultationItem.clue_ids)
                           .join(ConsultationItem, ConsultationItem.consultation_pk == Consultation.id)
                           .where(Consultation.planned.is_(False)).order_by(Consultation.activity_date, Consultation.id, ConsultationItem.seq)).all()
    found: dict[int, tuple[Consultation, dict[str, int]]] = {}
    for consultation, _, ids in rows:
        if clue_ids & set(ids or []):
            found.setdefault(consultation.id, (consultation, {}))
    for consultation, outcome, _ in rows:  # every item of a consultation that dealt with the clue
        if consultation.id in found:
            counts = found[consultation.id][1]
            counts[outcome] = counts.get(outcome, 0) + 1
    out = []
    for consultation, counts in found.values():
        outcomes = "、".join(f"{OUTCOME_SHORT.get(o, o)}{n}项" for o, n in counts.items())
        names = tuple(_names(consultation.document or {}))
        out.append(Activity(consultation.consultation_id, consultation.workstation, consultation.activity_date, mask_text(consultation.topic, names),
                            sum(counts.values()), outcomes, consultation.late, names))
    return out


def effect_of(session: Session, topic_pk: int | None, activity: date) -> Effect | None:
    """The topic's work orders per week, WEEKS_BEFORE weeks before the activity's week to WEEKS_AFTER after (as far as reports cover)."""
    if topic_pk is None:
        return None
    covered = covered_until(session)
    activity_week = week_start(activity)
    first = activity_week - timedelta(weeks=WEEKS_BEFORE)
    last = activity_week + timedelta(weeks=WEEKS_AFTER)
    if covered is not None:
        last = min(last, covered)
    volume = weekly_volume(session, [topic_pk], first, max(last, activity_week))[topic_pk]
    bars, before, after = [], [], []
    for week, n in volume.items():
        if week < activity_week:
            before.append(n)
            fill = "#9fb4d3"
        elif week == activity_week:
            fill = "#a4161a"
        else:
            after.append(n)
            fill = "#4f9a6a"
        bars.append(Bar(week.strftime("%m-%d"), n, fill, f"{chinese_date(week)}起一周：{n}件"))
    marker = next(i for i, week in enumerate(volume) if week == activity_week)
    before_avg = sum(before) / len(before) if before else 0.0
    after_avg = sum(after) / len(after) if after else None
    if after_avg is None:
        summary = f"活动前{len(before)}周平均每周{before_avg:.1f}件；活动后的报告尚未收到，暂无法比较。"
    elif before_avg == 0:
        summary = f"活动前{len(before)}周未收到该议题工单；活动后{len(after)}周平均每周{after_avg:.1f}件。"
    else:
        change = (after_avg - before_avg) / before_avg * 100
        trend = f"下降{-change:.0f}%" if change < 0 else f"上升{change:.0f}%" if change > 0 else "持平"
        summary = f"活动前{len(before)}周平均每周{before_avg:.1f}件，活动后{len(after)}周平均每周{after_avg:.1f}件，{trend}。"
    return Effect(activity, bars, marker, before_avg, after_avg, len(after), summary)


def _when(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


def _evaluation(row: ResultEvaluation | None) -> Evaluation | None:
    if row is None:
        return None
    return Evaluation(row.rating, RATINGS.get(row.rating, row.rating), row.text, row.evaluated_by, _when(row.evaluated_at), row.published,
                      row.published_by or "", _when(row.published_at))


def clue_result(session: Session, clue: Clue) -> ClueResult | None:
    """What the clue page shows once a filed Table 1 names a clue of its topic; None before."""
    activities = activities_on(session, topic_clue_ids(session, clue))
    if not activities:
        return None
    effect = effect_of(session, clue.topic_pk, activities[0].activity_date)
    row = session.scalar(select(ResultEvaluation).where(ResultEvaluation.clue_pk == clue.id))
    return ClueResult(activities, effect, _evaluation(row))


def _clue(session: Session, clue_id: str) -> Clue:
    clue = session.scalar(select(Clue).where(Clue.clue_id == clue_id))
    if clue is None:
        raise NotFound("没有这条线索，请从线索列表进入。")
    return clue


def evaluate(session: Session, viewer: Viewer, clue_id: str, rating: str, text: str) -> None:
    """评: the office's evaluation of the result (masked, with who and when; a change is a new audit row). Commits."""
    office_only(viewer)
    clue = _clue(session, clue_id)
    activities = activities_on(session, topic_clue_ids(session, clue))
    if not activities:
        raise ValidationFailed("这条线索尚无已报送的协商议事活动（附表1），暂不能评价成果。")
    if rating not in RATINGS:
        raise ValidationFailed("请选择成效评价：" + "、".join(RATINGS.values()) + "。")
    text = text.strip()
    if not text:
        raise ValidationFailed("评价意见不能为空。")
    if len(text) > TEXT_MAX:
        raise ValidationFailed(f"评价意见不能超过{TEXT_MAX}字。")
    text = mask_text(text, [n for a in activities for n in a.names])
    row = session.scalar(select(ResultEvaluation).where(ResultEvaluation.clue_pk == clue.id))
    now = utcnow()
    if row is None:
        row = ResultEvaluation(clue_pk=clue.id, published=False)
        session.add(row)
    row.rating, row.text, row.evaluated_by, row.evaluated_at = rating, text, viewer.username, now
    audit(session, "result_evaluate", username=viewer.username, target=clue.clue_id, at=now, rating=rating, text=text)
    session.commit()


def publish(session: Session, viewer: Viewer, clue_id: str, published: bool) -> None:
    """公示 or withdraw the evaluated result from /public/results. Commits."""
    office_only(viewer)
    clue = _clue(session, clue_id)
    row = session.scalar(select(ResultEvaluation).where(ResultEvaluation.clue_pk == clue.id))
    if row is None:
        raise ValidationFailed("请先填写成果评价，再公示。")
    if row.published != published:
        now = utcnow()
        row.published = published
        if published:
            row.published_by, row.published_at = viewer.username, now
        audit(session, "result_publish" if published else "result_unpublish", username=viewer.username, target=clue.clue_id, at=now)
    session.commit()


@dataclass(frozen=True)
class PublicResult:
    """One published result as /public/results shows it: masked texts, no names, no phone numbers, no ticket numbers."""

    title: str
    places: str
    activities: list[tuple[str, str, str, str]]  # date, workstation, topic, outcomes
    rating_name: str
    text: str
    published_on: str
    effect: Effect | None


def published_results(session: Session) -> list[PublicResult]:
    out = []
    for row, clue in session.execute(select(ResultEvaluation, Clue).join(Clue, Clue.id == ResultEvaluation.clue_pk)
                                     .where(ResultEvaluation.published.is_(True)).order_by(ResultEvaluation.published_at.desc())):
        activities = activities_on(session, topic_clue_ids(session, clue))
        names = tuple(n for a in activities for n in a.names)
        effect = effect_of(session, clue.topic_pk, activities[0].activity_date) if activities else None
        title = clue.title
        if clue.topic_pk is not None:
            title = session.scalar(select(Topic.title).where(Topic.id == clue.topic_pk)) or title
        streets = "、".join(str(p.get("street")) for p in (clue.places or [])[:4] if p.get("street"))
        out.append(PublicResult(
            title=public_text(title, names), places=public_text(streets, names),
            activities=[(a.date_text, public_text(a.workstation, names), public_text(a.topic, names), a.outcomes) for a in activities],
            rating_name=RATINGS.get(row.rating, ""), text=public_text(row.text, names),
            published_on=chinese_date(row.published_at.astimezone(SHANGHAI).date()) if row.published_at else "", effect=effect,
        ))
    return out


def result_for(session: Session, clue_id: str) -> ClueResult | None:
    """The clue page's result card (the caller has checked that the user may see the clue)."""
    clue = session.scalar(select(Clue).where(Clue.clue_id == clue_id))
    return clue_result(session, clue) if clue is not None else None
