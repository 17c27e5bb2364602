"""What comes back from the workstations (INTEGRATION.md section 5) and what goes back to the command center (section 3).

Table 1 (附表1 协商议事活动开展情况表): one consultation activity and its items,
each with exactly one of the three outcomes. Table 2 (附表2) is the month's sum.
"""
from __future__ import annotations

import re

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from contracts.reports import Period  # the same from…to as a report's period


class Outcome(StrEnum):
    on_site = "on_site"  # 现场解决
    short_term = "short_term"  # 短期内可协调解决（1至2个月）
    unresolved = "unresolved"  # 未解决但后续可形成社情民意信息或提案


OUTCOME_NAMES = {
    Outcome.on_site: "现场解决",
    Outcome.short_term: "短期内可协调解决（1至2个月）",
    Outcome.unresolved: "未解决但后续可形成社情民意信息或提案",
}

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must be one line: no line breaks, tabs or control characters (it is used in email subjects and file names)")
    return value


OneLine = AfterValidator(_one_line)
Name = Annotated[str, Field(min_length=1, max_length=100), OneLine]


class ConsultationItem(BaseModel):
    """One specific item (协商议事具体事项) and its one outcome."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=1000, description="协商议事具体事项")]
    outcome: Outcome = Field(description="Exactly one: on_site (现场解决), short_term (短期内可协调解决), unresolved (未解决但后续可形成社情民意信息或提案).")
    clue_ids: list[Annotated[str, Field(max_length=40), OneLine]] = Field(default_factory=list, max_length=50, description="Clue ids (C000001-002) this item dealt with.")
    ticket_nos: list[Annotated[str, Field(max_length=64), OneLine]] = Field(default_factory=list, max_length=200, description="Hotline ticket numbers this item dealt with.")
    responsible: Annotated[str, Field(max_length=100), OneLine] | None = Field(None, description="Who answers for this item (责任人).")
    assigned_unit: Annotated[str, Field(max_length=200), OneLine] | None = Field(None, description="The unit it was handed to (交办单位), for supervision.")


class Consultation(BaseModel):
    """Table 1: one consultation activity of a workstation or activity group."""

    model_config = ConfigDict(extra="forbid")

    activity_id: Annotated[str, Field(min_length=1, max_length=100), OneLine] | None = Field(
        None, description="The workstation's own id of the activity; filing again with the same id (or the same date and topic) is a revision.")
    workstation: Annotated[str, Field(min_length=1, max_length=200, description="站（室）或活动组"), OneLine]
    committee: Annotated[str, Field(max_length=64), OneLine] | None = Field(None, description="Committee id; default: the committee whose workstations list this one.")
    period: Period = Field(description="活动时间（自…至…）")
    activity_date: date | None = Field(None, description="The day the activity ended (the 3 working days run from it); default period.end.")
    topic: Annotated[str, Field(min_length=1, max_length=300, description="协商议事主题"), OneLine]
    members: list[Name] = Field(default_factory=list, max_length=200, description="参加委员")
    items: list[ConsultationItem] = Field(default_factory=list, max_length=100)
    planned: bool = Field(False, description="Announces an activity (no items yet): its Table 1 is then expected by the due date and chased if missing.")
    responsible_person: Annotated[str, Field(max_length=100), OneLine] | None = Field(None, description="委员工作站（室）或活动组负责人")
    committee_director: Annotated[str, Field(max_length=100), OneLine] | None = Field(None, description="委室主任")
    filled_on: date | None = Field(None, description="填表日期")

    @model_validator(mode="after")
    def _items_unless_planned(self) -> "Consultation":
        if not self.planned and not self.items:
            raise ValueError("a Table 1 lists at least one item (协商议事具体事项); to announce an activity without items, set planned: true")
        if self.planned and self.items:
            raise ValueError("an announced activity (planned: true) has no items yet; file its Table 1 without planned")
        if self.activity_date is not None and not (self.period.start <= self.activity_date <= self.period.end):
            raise ValueError(f"activity_date {self.activity_date} is outside the period {self.period.start} – {self.period.end}")
        return self

    @property
    def day(self) -> date:
        return self.activity_date or self.period.end


class ConsultationReceipt(BaseModel):
    consultation_id: str
    revision: int
    workstation: str
    committee: str
    activity_date: date
    due_on: date = Field(description="Activity date + 3 working days on the official calendar (Asia/Shanghai).")
    received_on: date | None = Field(None, description="When the first Table 1 with items arrived (Beijing date).")
    late: bool
    planned: bool
    items: int
    supervision_ids: list[str] = Field(default_factory=list, description="Supervision entries (督办) of the items not resolved on site.")
    first_filing: bool = Field(False, description="True when this request brought the activity's first Table 1 with items (what on-time or late is decided on).")
    calendar_official: bool = Field(description="False when the due date was counted Monday–Friday because the official calendar of that year is not known yet.")


class SupervisionUpdate(BaseModel):
    """Progress of a supervision entry (督办落实情况), as seed 002's sheet has it."""

    model_config = ConfigDict(extra="forbid")

    assigned_unit: Annotated[str, Field(max_length=200), OneLine] | None = None
    supervisor: Annotated[str, Field(max_length=100), OneLine] | None = None
    progress: Annotated[str, Field(max_length=2000)] | None = None
    problems: Annotated[str, Field(max_length=2000)] | None = None
    way_forward: Annotated[str, Field(max_length=2000)] | None = None
    reporting_department: Annotated[str, Field(max_length=200)] | None = None
    reporting_date: date | None = None
    state: Annotated[str, Field(pattern="^(open|done)$")] | None = Field(None, description="done: the suggestion has been carried out.")
