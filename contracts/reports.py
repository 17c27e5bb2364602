"""Reports pushed by the command center (INTEGRATION.md section 1)."""
from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

SHANGHAI = ZoneInfo("Asia/Shanghai")


class ReportKind(StrEnum):
    """周报、月报、快报、专报、突发性重点问题."""

    weekly = "weekly"
    monthly = "monthly"
    express = "express"
    special = "special"
    urgent = "urgent"


def _assume_shanghai(value: datetime) -> datetime:
    # The command center's clocks are local; a time without a zone is Beijing time.
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


LocalDateTime = Annotated[datetime, AfterValidator(_assume_shanghai)]

# "->" first (a 12345 platform's 劳动和社会保障->社会保险->社保基金管理), then > / and a dash between levels.
_CATEGORY_SPLIT = re.compile(r"\s*(?:->|－>|[/>＞／]|\s-\s|(?<=\S)-(?=\S))\s*")


def _split_category(value: Any) -> Any:
    # "城乡建设/市政设施/道路积水", "城乡建设 > 市政设施" and "城乡建设->市政设施" mean the same as the list form.
    if value is None:
        return []
    if isinstance(value, str):
        value = _CATEGORY_SPLIT.split(value)
    if isinstance(value, list):
        return [level.strip() if isinstance(level, str) else level for level in value if level != ""]
    return value


CategoryPath = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]],
    BeforeValidator(_split_category),
    Field(max_length=5, description="Category levels, most general first; also accepted as one string with ->, >, / or - between levels."),
]

ShortText = Annotated[str, Field(max_length=200)]


class Caller(BaseModel):
    """The citizen who called. Never leaves the gateway unmasked."""

    model_config = ConfigDict(extra="ignore")

    name: ShortText | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end < self.start:
            raise ValueError("period end is before its start")
        return self


_TICKET_BAD = re.compile(r"[\x00-\x1f\x7f/\u2028\u2029]")


def _ticket(value: str) -> str:
    if not value.strip():
        raise ValueError("a ticket number cannot be only spaces")
    bad = _TICKET_BAD.search(value)
    if bad:
        what = "a '/'" if bad.group() == "/" else f"a control character (U+{ord(bad.group()):04X})"
        raise ValueError(f"a ticket number holds no control characters and no '/': this one has {what} at position {bad.start() + 1}")
    return value


TicketNo = Annotated[str, Field(
    min_length=1, max_length=64, json_schema_extra={"pattern": r"^[^\x00-\x1f\x7f/\u2028\u2029]+$"},
    description="As the platform issued it (热线-240914-013259, 2611160001234): any printable characters up to 64, stored and echoed "
                "exactly; no control characters and no `/`. In a URL path, percent-encode it.",
), AfterValidator(_ticket)]


class WorkOrderRecord(BaseModel):
    """One hotline work order (工单) as the command center sends it."""

    model_config = ConfigDict(extra="ignore")

    ticket_no: TicketNo
    received_at: LocalDateTime
    channel: Annotated[str, Field(max_length=32)] | None = None
    category: CategoryPath = Field(default_factory=list)
    district: ShortText | None = None
    street: ShortText | None = None
    community: ShortText | None = None
    address: Annotated[str, Field(max_length=500)] | None = None
    content: Annotated[str, Field(min_length=1, max_length=20000)]
    caller: Caller | None = None
    handling_unit: ShortText | None = None
    status: Annotated[str, Field(max_length=32)] | None = None
    satisfaction: Annotated[str, Field(max_length=32)] | None = None
    flags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=32)
    likes: Annotated[int, Field(ge=0, le=10_000_000)] | None = Field(None, description="Likes (点赞数) where the source is a message board: support for the matter, into the clue's hotness.")
    repeat_count: Annotated[int, Field(ge=0, le=10_000_000)] | None = Field(None, description="How often it was reported again (重复反映告知单量 of a 12345 export), into the clue's hotness.")
    ticket_type: Annotated[str, Field(max_length=32)] | None = Field(
        None, description="工单类型: 诉求, 投诉, 建议, 求助, 举报, 表扬 or 咨询 (or the English request, complaint, suggestion, help, report, "
                          "praise, inquiry). A 咨询 asks for information: it is counted, but a topic of only 咨询 forms no clue.")
    result: Annotated[str, Field(max_length=20000)] | None = Field(None, description="处理结果: how the handling unit answered; kept masked.")
    closed_at: LocalDateTime | None = Field(None, description="办结时间: when the work order was closed.")
    time_limit_days: Annotated[float, Field(ge=0, le=3650)] | None = Field(None, description="处理时限 in days (a 12345 export writes 7.0).")
    company: ShortText | None = Field(None, description="企业名称: the business the work order is about, if any.")


def period_problem(kind: Any, period: Any) -> str | None:
    """Weekly and monthly reports name their period."""
    if str(getattr(kind, "value", kind)) in ("weekly", "monthly") and not period:
        return f"period is required for a {getattr(kind, 'value', kind)} report"
    return None


# What the model validators check, said in JSON Schema too, so that clients (and
# schemathesis) see the same rules in the OpenAPI document.
_REPORT_RULES = {
    "allOf": [
        {
            "if": {"properties": {"kind": {"enum": ["weekly", "monthly"]}}, "required": ["kind"]},
            "then": {"required": ["period"], "properties": {"period": {"type": "object"}}},
        },
        {
            "anyOf": [
                {"required": ["records"], "properties": {"records": {"minItems": 1}}},
                {"required": ["summary"], "properties": {"summary": {"type": "string", "minLength": 1}}},
            ]
        },
    ]
}


class ReportEnvelope(BaseModel):
    """A report without its records validated: used to validate records one by one."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_REPORT_RULES)

    report_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    kind: ReportKind
    period: Period | None = None
    issued_at: LocalDateTime | None = None
    title: Annotated[str, Field(max_length=300)] | None = None
    summary: Annotated[str, Field(max_length=20000)] | None = None
    records: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _period_when_periodic(self) -> "ReportEnvelope":
        problem = period_problem(self.kind, self.period)
        if problem:
            raise ValueError(problem)
        if not self.records and not self.summary:
            raise ValueError("a report needs records, or (urgent reports) at least a summary")
        return self


class Report(ReportEnvelope):
    """A report as the command center pushes it (周报/月报/快报/专报/突发性重点问题)."""

    records: list[WorkOrderRecord] = Field(default_factory=list)  # type: ignore[assignment]
