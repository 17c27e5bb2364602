"""附表1 online: a workstation (or the office) files a Table 1 on a form laid out like seed 000's (docs/office.md).

Nothing here decides what a Table 1 may hold, when it is due or late, or what
a revision is: the form's fields become the same `contracts.consultations`
document the JSON and spreadsheet paths read, filed by the same
`gateway.loop.table1.file_table1`. What is here: reading the form, saying the
contract's and the filing's refusals in Chinese against the form's rows, who
may see which Table 1, and the audit row (in the filing's transaction).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.consultations import OUTCOME_NAMES, Outcome
from contracts.consultations import Consultation as Table1
from contracts.consultations import ConsultationReceipt
from gateway.db.models import Clue, ClueForward, Consultation, ConsultationRevision, Supervision, utcnow
from gateway.errors import Forbidden, NotFound, ValidationFailed
from gateway.loop.table1 import FileTable1, file_table1
from gateway.office.accounts import Viewer, audit
from gateway.office.inbox import committee_short
from gateway.periods import SHANGHAI, chinese_date
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.uow import UnitOfWork, UnitOfWorkFactory
from gateway.workdays import DUE_WORKING_DAYS, WorkCalendar

ROWS = 10  # as many as seed 000's form; a longer Table 1 shows as many as it has, and ?rows= gives more
MAX_ROWS = 100  # the contract's limit
OUTCOMES = [(o.value, OUTCOME_NAMES[o]) for o in (Outcome.on_site, Outcome.short_term, Outcome.unresolved)]
SOURCE = "office"  # consultations.source of a Table 1 filed on these pages
_CLUE_ID = re.compile(r"C\d{6}-\d{3}")
_LABELS = {"workstation": "站（室）或活动组", "topic": "协商议事主题", "members": "参加委员", "period": "活动时间", "activity_id": "活动编号",
           "responsible_person": "委员工作站（室）或活动组负责人", "committee_director": "委室主任", "filled_on": "填表日期", "items": "协商议事具体事项"}
_SOURCES = {"api": "接口报送", "upload": "上传表格", "import": "命令行导入", SOURCE: "网页填报"}


def now() -> datetime:
    """When a filing arrives (tests put a day of the official calendar here)."""
    return utcnow()


@dataclass
class FormRow:
    text: str = ""
    outcome: str = ""
    clues: list[str] = field(default_factory=list)
    refs: str = ""


@dataclass
class FormValues:
    """The form as the user filled it, to show it again with the problems."""

    activity_id: str = ""
    workstation: str = ""
    start: str = ""
    end: str = ""
    topic: str = ""
    members: str = ""
    rows: list[FormRow] = field(default_factory=list)
    responsible_person: str = ""
    committee_director: str = ""
    filled_on: str = ""
    revise: str = ""  # the consultation id this is a revision of
    locked: bool = False  # a revision of a Table 1 without activity id: its date and topic are what makes it the same activity


@dataclass(frozen=True)
class FormError:
    where: str  # a field name, or item-N
    message: str


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[、，,；;\s]+", value) if part]


def _one(form: Any, name: str, limit: int = 2000) -> str:
    value = form.get(name, "")
    return (value if isinstance(value, str) else "").strip()[:limit]


def read_form(form: Any) -> FormValues:
    try:
        count = max(1, min(int(_one(form, "rows", 5) or ROWS), MAX_ROWS))
    except ValueError:
        count = ROWS
    rows = []
    for n in range(1, count + 1):
        clues = [c for c in form.getall(f"item{n}_clues", []) if isinstance(c, str) and c.strip()]
        rows.append(FormRow(text=_one(form, f"item{n}_text"), outcome=_one(form, f"item{n}_outcome", 20), clues=clues,
                            refs=_one(form, f"item{n}_refs")))
    return FormValues(
        activity_id=_one(form, "activity_id", 200), workstation=_one(form, "workstation", 300), start=_one(form, "start", 20),
        end=_one(form, "end", 20), topic=_one(form, "topic", 500), members=_one(form, "members"), rows=rows,
        responsible_person=_one(form, "responsible_person", 200), committee_director=_one(form, "committee_director", 200),
        filled_on=_one(form, "filled_on", 20), revise=_one(form, "revise", 40), locked=_one(form, "locked", 5) == "1",
    )


def _document(values: FormValues, viewer: Viewer) -> dict[str, Any]:
    """The form's fields as a Table 1 document, before the contract reads it: the texts staff type are masked first."""
    items, seqs = [], []
    for n, row in enumerate(values.rows, start=1):
        refs = _split(row.refs)
        if not (row.text or row.outcome or row.clues or refs):
            continue
        seqs.append(n)
        items.append({"text": mask_text(row.text), "outcome": row.outcome or None,
                      "clue_ids": list(dict.fromkeys([*row.clues, *(r for r in refs if _CLUE_ID.fullmatch(r))])),
                      "ticket_nos": [r for r in refs if not _CLUE_ID.fullmatch(r)]})
    return {
        "activity_id": values.activity_id or None,
        "workstation": viewer.workstation if viewer.role == "workstation" else values.workstation,
        "period": {"start": values.start or None, "end": values.end or values.start or None},
        "topic": values.topic, "members": _split(values.members), "items": items,
        "responsible_person": values.responsible_person or None, "committee_director": values.committee_director or None,
        "filled_on": values.filled_on or None, "_seqs": seqs,
    }


def _contract_errors(exc: ValidationError, seqs: list[int]) -> list[FormError]:
    """The contract's refusals, said in Chinese against the form's rows and fields."""
    out = []
    for e in exc.errors():
        loc, kind, msg = list(e["loc"]), e["type"], str(e.get("msg", ""))
        name = str(loc[0]) if loc else ""
        if name == "items" and len(loc) >= 3 and isinstance(loc[1], int):
            n = seqs[loc[1]] if loc[1] < len(seqs) else loc[1] + 1
            what = loc[2]
            message = {"text": "请填写协商议事具体事项" if kind in ("string_too_short", "missing") else "具体事项不超过1000字",
                       "outcome": "请在“现场解决”“短期内可协调解决”“未解决但后续可形成社情民意信息或提案”中选择一种"}.get(
                str(what), "相关线索编号或工单编号有误（每个不超过64字，不含斜杠和控制字符）")
            out.append(FormError(f"item-{n}", f"第{n}项：{message}"))
        elif name == "period":
            if kind == "missing" or e.get("input") is None:
                out.append(FormError("period", "活动时间：请填写开始和结束日期"))
            elif "before its start" in msg:
                out.append(FormError("period", "活动时间：结束日期早于开始日期"))
            else:
                out.append(FormError("period", "活动时间：请按“2026-11-20”的格式填写日期"))
        elif name == "filled_on":
            out.append(FormError("filled_on", "填表日期：请按“2026-11-20”的格式填写日期"))
        elif name in ("topic", "workstation") and kind in ("string_too_short", "missing", "string_type"):
            out.append(FormError(name, f"请填写{_LABELS[name]}"))
        elif name == "members":
            out.append(FormError("members", "参加委员：每位委员姓名不超过100字，最多200人"))
        elif name == "items" and len(loc) == 1:
            out.append(FormError("items", "协商议事具体事项最多100项"))
        elif not loc and "at least one item" in msg:
            out.append(FormError("items", "请至少填写一项协商议事具体事项，并选择其结果"))
        elif not loc and "outside the period" in msg:
            out.append(FormError("period", "活动日期不在活动时间之内"))
        elif "control characters" in msg or "one line" in msg:
            out.append(FormError(name, f"{_LABELS.get(name, name)}：请写在一行内，不要换行"))
        else:
            out.append(FormError(name, f"{_LABELS.get(name, name or '表格')}：填写有误（{'过长' if 'too_long' in kind else '格式不符'}）"))
    return list(dict.fromkeys(out))  # one line per problem (a missing start and end are one)


def _filing_errors(exc: ValidationFailed, seqs: list[int]) -> list[FormError]:
    """`file_table1`'s refusals (unknown clue ids and ticket numbers), in Chinese against the rows."""
    out = []
    for e in exc.errors or []:
        loc = e.get("loc") or []
        if len(loc) >= 3 and loc[0] == "items":
            n = seqs[loc[1]] if loc[1] < len(seqs) else loc[1] + 1
            value = re.search(r"'(.*)'", str(e.get("msg", "")))
            shown = value.group(1) if value else ""
            what = "线索编号" if loc[2] == "clue_ids" else "工单编号"
            out.append(FormError(f"item-{n}", f"第{n}项：{what}“{shown}”在平台中不存在，请与线索包核对"))
        elif loc and loc[0] == "committee":
            out.append(FormError("workstation", "该工作站的对口委室不在分办配置中，请联系区政协办公室"))
    return out or [FormError("", "报送未成功：" + exc.detail)]


class _Audited(UnitOfWork):
    """The filing's unit of work, with its audit row written in the same transaction as the Table 1."""

    def __init__(self, factory: UnitOfWorkFactory, viewer: Viewer, doc: Table1) -> None:
        super().__init__(factory.session_factory, factory.dispatch)
        self._viewer, self._doc = viewer, doc

    def commit(self) -> None:
        key = self._doc.activity_id or f"{self._doc.day.isoformat()}|{self._doc.topic}"
        c = self.session.scalar(select(Consultation).where(Consultation.workstation == self._doc.workstation, Consultation.activity_key == key))
        audit(self.session, "table1_file", username=self._viewer.username, target=c.consultation_id if c else None,
              workstation=self._doc.workstation, topic=self._doc.topic, revision=c.revision if c else None, late=c.late if c else None)
        super().commit()


def file_online(uow: UnitOfWorkFactory, viewer: Viewer, routing: RoutingConfig, calendar: WorkCalendar,
                values: FormValues) -> tuple[ConsultationReceipt | None, bool, list[FormError]]:
    """File the form's Table 1 through `file_table1`: (receipt, changed, []) or (None, False, the problems in Chinese)."""
    if viewer.role == "committee":
        raise Forbidden("附表1由委员工作站（活动组）或区政协办公室填报；委室可查看本委室联系工作站报送的情况表。")
    raw = _document(values, viewer)
    seqs = raw.pop("_seqs")
    problems: list[FormError] = []
    if viewer.role == "office" and raw["workstation"] not in stations(routing):
        problems.append(FormError("workstation", "请选择站（室）或活动组"))
    try:
        doc = Table1.model_validate(raw)
    except ValidationError as exc:
        return None, False, problems + _contract_errors(exc, seqs)
    if problems:
        return None, False, problems
    cmd = FileTable1(client_id=f"office:{viewer.username}"[:64], document=doc, source=SOURCE,
                     workstation_of_client=viewer.workstation if viewer.role == "workstation" else None)
    try:
        receipt, changed = file_table1(_Audited(uow, viewer, doc), cmd, routing=routing, calendar=calendar, now=now())
    except ValidationFailed as exc:
        return None, False, _filing_errors(exc, seqs)
    return receipt, changed, []


def stations(routing: RoutingConfig) -> list[str]:
    return [s if isinstance(s, str) else s.name for c in routing.committees for s in c.workstations]


def _check_scope(viewer: Viewer, c: Consultation) -> None:
    if viewer.role == "office":
        return
    if viewer.role == "committee" and c.committee_id == viewer.committee_id:
        return
    if viewer.role == "workstation" and c.workstation == viewer.workstation:
        return
    raise Forbidden("这份情况表不属于本单位，无权查看。")


def _scoped(query: Any, viewer: Viewer) -> Any:
    if viewer.role == "committee":
        return query.where(Consultation.committee_id == viewer.committee_id)
    if viewer.role == "workstation":
        return query.where(Consultation.workstation == viewer.workstation)
    return query


def consultation_of(session: Session, viewer: Viewer, consultation_id: str) -> Consultation:
    c = session.scalar(select(Consultation).where(Consultation.consultation_id == consultation_id))
    if c is None:
        raise NotFound("没有这份协商议事活动开展情况表。")
    _check_scope(viewer, c)
    return c


@dataclass(frozen=True)
class Table1Row:
    consultation_id: str
    workstation: str
    committee: str
    topic: str
    activity: str
    due: str
    received: str
    state: str  # on_time, late, planned
    state_name: str
    revision: int
    items: int


def _timeliness(c: Consultation) -> tuple[str, str]:
    if c.received_at is None:
        return "planned", "待报送"
    return ("late", "逾期报送") if c.late else ("on_time", "按时报送")


def table1_list(session: Session, viewer: Viewer, routing: RoutingConfig) -> list[Table1Row]:
    out = []
    for c in session.scalars(_scoped(select(Consultation), viewer).order_by(Consultation.activity_date.desc(), Consultation.id.desc()).limit(500)):
        state, name = _timeliness(c)
        out.append(Table1Row(c.consultation_id, c.workstation, committee_short(routing, c.committee_id), c.topic, chinese_date(c.activity_date),
                             chinese_date(c.due_on), c.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if c.received_at else "",
                             state, name, c.revision, len(c.document.get("items") or [])))
    return out


@dataclass(frozen=True)
class Table1Detail:
    consultation_id: str
    doc: Table1
    committee: str
    revision: int
    due: str
    received: str
    state: str
    state_name: str
    calendar_official: bool
    totals: dict[str, int]
    revisions: list[tuple[int, str, str, str]]  # revision, when, how, by
    supervision: dict[int, str]  # item seq → supervision id
    outcome_names: list[tuple[str, str]] = field(default_factory=lambda: OUTCOMES)
    rows: int = ROWS


def table1_detail(session: Session, viewer: Viewer, routing: RoutingConfig, consultation_id: str) -> Table1Detail:
    c = consultation_of(session, viewer, consultation_id)
    doc = Table1.model_validate(c.document)
    state, name = _timeliness(c)
    revisions = [(r.revision, r.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), _SOURCES.get(r.source, r.source),
                  r.client_id.removeprefix("office:")) for r in session.scalars(
        select(ConsultationRevision).where(ConsultationRevision.consultation_pk == c.id).order_by(ConsultationRevision.revision))]
    supervision = {s.item_seq: s.supervision_id for s in session.scalars(
        select(Supervision).where(Supervision.consultation_pk == c.id, Supervision.state != "withdrawn"))}
    totals = {o: sum(1 for i in doc.items if i.outcome.value == o) for o, _ in OUTCOMES}
    return Table1Detail(c.consultation_id, doc, committee_short(routing, c.committee_id), c.revision, chinese_date(c.due_on),
                        c.received_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if c.received_at else "", state, name,
                        c.calendar_official, totals, revisions, supervision, rows=max(ROWS, len(doc.items)))


def values_of(doc: Table1, consultation_id: str, candidates: list[tuple[str, str]]) -> FormValues:
    """A filed Table 1 as the form to revise it."""
    known = {cid for cid, _ in candidates}
    rows = [FormRow(text=i.text, outcome=i.outcome.value, clues=[c for c in i.clue_ids if c in known],
                    refs="、".join([*(c for c in i.clue_ids if c not in known), *i.ticket_nos])) for i in doc.items]
    return FormValues(activity_id=doc.activity_id or "", workstation=doc.workstation, start=doc.period.start.isoformat(),
                      end=doc.period.end.isoformat(), topic=doc.topic, members="、".join(doc.members), rows=rows,
                      responsible_person=doc.responsible_person or "", committee_director=doc.committee_director or "",
                      filled_on=doc.filled_on.isoformat() if doc.filled_on else "", revise=consultation_id, locked=doc.activity_id is None)


def candidates(session: Session, viewer: Viewer, *, limit: int = 200) -> list[tuple[str, str]]:
    """The clues to choose from on the form: those forwarded to this workstation (for the office: to any), newest first."""
    query = (select(Clue.clue_id, Clue.title, ClueForward.workstation).join(ClueForward, ClueForward.clue_pk == Clue.id)
             .order_by(ClueForward.id.desc()).limit(limit))
    if viewer.role == "workstation":
        query = query.where(ClueForward.workstation == viewer.workstation)
    out: dict[str, str] = {}
    for clue_id, title, station in session.execute(query):
        label = f"{clue_id} {title}" + ("" if viewer.role == "workstation" else f"（转交{station}）")
        out.setdefault(clue_id, label if clue_id not in out else out[clue_id])
    return list(out.items())


def blank(viewer: Viewer, *, rows: int = ROWS, clue: str = "", today: date | None = None) -> FormValues:
    values = FormValues(workstation=viewer.workstation or "", rows=[FormRow() for _ in range(rows)],
                        filled_on=(today or utcnow().astimezone(SHANGHAI).date()).isoformat())
    if clue:
        values.rows[0].clues = [clue]
    return values


def padded(values: FormValues, rows: int = ROWS) -> FormValues:
    while len(values.rows) < rows:
        values.rows.append(FormRow())
    return values


DUE_TEXT = f"活动结束后{DUE_WORKING_DAYS}个工作日内报送（按国务院办公厅公布的节假日安排计算）"
