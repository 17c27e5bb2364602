"""What the gateway tells about a report and a work order (GET endpoints)."""
from __future__ import annotations

from typing import Any

from datetime import datetime

from pydantic import BaseModel, Field


class RecordCounts(BaseModel):
    received: int = Field(description="Records stored from the report.")
    rejected: int = Field(description="Records refused at intake (partial acceptance).")
    normalized: int
    duplicates: int = Field(description="Work orders already known from an earlier report.")
    excluded: int = Field(description="Screened out of consultation (seed 002).")
    excluded_by_reason: dict[str, int]
    routed: int = Field(description="In a clue.")
    delivered: int = Field(description="In a clue whose packet was delivered.")


class DeliveryStatus(BaseModel):
    recipient: str
    state: str = Field(description="pending, sending, sent, retry or failed.")
    attempts: int
    message_id: str
    last_error: str | None = None


class PacketStatus(BaseModel):
    packet_id: str
    committee: str
    subject: str
    state: str = Field(description="pending, delivered, partial or failed.")
    clues: int
    location: str | None = None
    deliveries: list[DeliveryStatus]


class ReportStatus(BaseModel):
    report_id: str
    receipt_id: str
    kind: str
    source: str = Field(description="push, upload, pull, drop or import.")
    state: str = Field(description="received, normalized, routed, delivered, or stuck (set aside after repeated failures: the gateway's operators were alerted and retry it once the cause is fixed).")
    received_at: datetime
    records: RecordCounts
    clues: int
    packets: list[PacketStatus]


class WorkOrderStatus(BaseModel):
    ticket_no: str
    category: list[str]
    category_inferred: bool = Field(description="True when the gateway inferred the category from the text.")
    category_confidence: float | None = Field(None, ge=0, le=1)
    excluded: str | None = Field(None, description="Exclusion reason code, or null.")
    issue_id: str | None = None
    clue_id: str | None = None
    committee: str | None = Field(None, description="The committee's name as in the routing configuration.")
    workstations: list[str]
    packets: list[str]
    reports: list[str] = Field(description="Report ids this work order appeared in, oldest first.")
    status: str | None = None
    district: str | None = None
    street: str | None = None
    content: str = Field(description="The complaint text with personal data masked.")
    caller: str | None = Field(None, description="Masked caller name.")
    ticket_type: str | None = Field(None, description="request, complaint, suggestion, help, report, praise, inquiry (咨询) or other.")
    handling_unit: str | None = Field(None, description="承办单位.")
    result: str | None = Field(None, description="处理结果, personal data masked.")
    closed_at: datetime | None = Field(None, description="办结时间.")
    time_limit_days: float | None = Field(None, description="处理时限 in days.")


class ClueStatus(BaseModel):
    """A clue (线索) as the office receives it: a matter at a place, with the evidence behind it. Personal data masked."""

    clue_id: str
    report_id: str
    committee: str = Field(description="The committee's name as in the routing configuration.")
    shared_with: list[str] = Field(default_factory=list, description="Other committees a part of the topic belongs to.")
    type: str = Field(description="proposal (提案线索), public_opinion (社情民意信息线索) or consultation_topic (协商议事备选议题).")
    type_name: str
    title: str
    reason: str = Field(description="Why this type, in the office's words.")
    topic_id: str | None = Field(None, description="The topic it belongs to; topics continue from report to report.")
    keywords: list[str]
    places: list[dict[str, Any]] = Field(description="Estates, villages, roads, schools, companies the texts name, with counts; then streets.")
    period: dict[str, Any] = Field(description="The report's period label and the first and last time of its work orders.")
    score: float = Field(description="Hotness (docs/decisions.md).")
    rank: int = Field(description="1 = the hottest clue of its report.")
    work_orders: int
    citizens: int
    issues: int = Field(description="Distinct near-duplicate issues.")
    likes: int = Field(description="Likes and repeat counts the source gave, summed.")
    tickets: list[str] = Field(description="Ticket numbers, up to 1,000.")
    samples: list[str] = Field(description="Sample complaint texts, personal data masked.")


class Health(BaseModel):
    status: str
    database: str
    broker: str | None = None
