"""What the gateway answers: receipts and RFC 9457 problem documents."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RejectedRecord(BaseModel):
    index: int = Field(description="Position of the record in the pushed `records` list, from 0.")
    row: int | None = Field(None, description="Row number in the uploaded file (uploads only).")
    ticket_no: str | None = None
    errors: list["ProblemItem"]


class ColumnMapping(BaseModel):
    """How an uploaded file's columns were read."""

    read: dict[str, str] = Field(description="The file's column → the work-order field it was read into, e.g. {\"主要内容\": \"content\"}.")
    ignored: list[str] = Field(default_factory=list, description="The file's columns the gateway does not read (kept out, not failed on).")


class Receipt(BaseModel):
    receipt_id: str
    report_id: str
    records: int = Field(description="Records stored.")
    duplicate: bool = False
    status_url: str
    rejected: list[RejectedRecord] = Field(default_factory=list, description="Only with ?partial=true.")
    columns: ColumnMapping | None = Field(None, description="Uploads of .xlsx, .csv and .jsonl: how the file's columns were read.")


class UploadPreview(BaseModel):
    """`POST /api/v1/reports/upload?dry_run=true`: what the upload would store; nothing is stored."""

    dry_run: bool = True
    columns: ColumnMapping
    rows: int = Field(description="Rows (or lines) below the header that hold anything.")
    good: int = Field(description="Rows that are valid work orders.")
    refused: int = Field(description="Rows that are not; an upload without ?partial=true would be refused whole (422) if there is one.")
    problems: list[str] = Field(default_factory=list, description="The first problems, by row.")
    samples: list[dict[str, Any]] = Field(default_factory=list, description="The first three work orders as they would be stored: normalized, masked.")


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
