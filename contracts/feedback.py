"""The monthly feedback document the gateway pushes to the command center (INTEGRATION.md section 3).

`POST {base}/api/v1/feedback`, signed, with `Idempotency-Key: feedback-<month>-r<revision>`:
the month's Table 2 (附表2) rows and totals, the reconciliation figures beside
it, and per hotline ticket the clues it fed and the consultation outcomes that
touched it. The gateway builds it (gateway.loop.table2.feedback_document) and
validates it against this model before it is stored and pushed; the command
center can validate what it receives with the same model (`gateway schema`).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["on_site", "short_term", "unresolved"]  # 现场解决 / 短期内可协调解决 / 未解决


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Table2Row(_Strict):
    workstation: str = Field(description="委员工作站（室）或活动组")
    topic: str = Field(description="协商议事主题")
    items: int = Field(ge=0, description="事项: items discussed")
    on_site: int = Field(ge=0)
    short_term: int = Field(ge=0)
    unresolved: int = Field(ge=0)


class Table2Totals(_Strict):
    items: int = Field(ge=0)
    on_site: int = Field(ge=0)
    short_term: int = Field(ge=0)
    unresolved: int = Field(ge=0)


class Table2(_Strict):
    rows: list[Table2Row]
    totals: Table2Totals


class Reconciliation(_Strict):
    work_orders_received: int = Field(ge=0)
    clues_routed: int = Field(ge=0)
    clues_with_result: int = Field(ge=0)
    table1_received: int = Field(ge=0)
    table1_late: int = Field(ge=0)
    supervision_open: int = Field(ge=0, description="supervision items not resolved, at the time the document was made")
    work_orders_closed: int = Field(0, ge=0, description="of the month's work orders, those the hotline reports closed (办结: a 办结时间 or status closed)")
    work_orders_closed_in_time: int = Field(0, ge=0, description="of those, closed within their 处理时限 (calendar days from the call)")


class TicketOutcome(_Strict):
    consultation_id: str
    revision: int = Field(ge=1)
    item: int = Field(ge=1, description="the item's number in that Table 1")
    workstation: str
    activity_date: date
    outcome: Outcome


class TicketFeedback(_Strict):
    ticket_no: str
    clues: list[str] = Field(description="clue ids this ticket fed in the month")
    outcomes: list[TicketOutcome]


class FeedbackDocument(_Strict):
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"])
    revision: int = Field(ge=1, description="a new revision only when the content changed; part of the Idempotency-Key")
    generated_at: datetime
    table2: Table2
    reconciliation: Reconciliation
    tickets: list[TicketFeedback]
