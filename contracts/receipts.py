"""What the gateway answers: receipts and RFC 9457 problem documents."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RejectedRecord(BaseModel):
    index: int = Field(description="Position of the record in the pushed `records` list, from 0.")
    row: int | None = Field(None, description="Row number in the uploaded file (uploads only).")
    ticket_no: str | None = None
    errors: list["ProblemItem"]


class Receipt(BaseModel):
    receipt_id: str
    report_id: str
    records: int = Field(description="Records stored.")
    duplicate: bool = False
    status_url: str
    rejected: list[RejectedRecord] = Field(default_factory=list, description="Only with ?partial=true.")


class ProblemItem(BaseModel):
    loc: list[Any] = Field(description='Where the problem is, e.g. ["records", 3, "received_at"].')
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemItem] | None = None
