"""What the gateway tells about a report and a work order (GET endpoints)."""
from __future__ import annotations

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
    state: str = Field(description="received, normalized, routed or delivered.")
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


class Health(BaseModel):
    status: str
    database: str
    broker: str | None = None
