"""`gateway import FILE --dry-run`: what the gateway would make of a report file, with nothing stored.

Which columns were recognised as which field and which were left out, how many
rows are work orders and how many are not (the first problems by row), and the
first rows as they would be stored: normalized and masked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from pydantic import ValidationError

from contracts import ColumnMapping, UploadPreview, WorkOrderRecord
from gateway.intake.report_files import BUILTIN, ColumnNames, header_mapping, iter_records
from gateway.pipeline.normalize import Normalizer

PROBLEMS_SHOWN = 10
SAMPLES_SHOWN = 3


@dataclass
class Preview:
    recognised: dict[str, str]  # the file's column → the field it is read into
    ignored: list[str]  # the file's columns the gateway does not read
    rows: int = 0
    good: int = 0
    problems: list[str] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return self.rows - self.good

    def document(self) -> UploadPreview:
        """As the upload's ?dry_run=true answers it."""
        return UploadPreview(columns=ColumnMapping(read=self.recognised, ignored=self.ignored), rows=self.rows, good=self.good,
                             refused=self.bad, problems=self.problems, samples=self.samples)


def column_mapping(content: bytes, filename: str, columns: ColumnNames = BUILTIN) -> ColumnMapping:
    read, ignored = header_mapping(content, filename, columns)
    return ColumnMapping(read=read, ignored=ignored)


def preview_file(content: bytes, filename: str, normalizer: Normalizer, columns: ColumnNames = BUILTIN) -> Preview:
    """The file read as an upload would read it; ValidationFailed when it cannot be read at all (as an upload would say)."""
    recognised, ignored = header_mapping(content, filename, columns)
    preview = Preview(recognised, ignored)
    for row, raw in iter_records(content, filename, columns):
        preview.rows += 1
        try:
            record = WorkOrderRecord.model_validate(raw)
        except ValidationError as exc:
            if len(preview.problems) < PROBLEMS_SHOWN:
                where = f"第{row}行" if PurePath(filename).suffix.lower() in (".xlsx", ".csv") else f"line {row}"
                preview.problems.append(where + " " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
            continue
        preview.good += 1
        if len(preview.samples) < SAMPLES_SHOWN:
            n = normalizer.record(record)
            preview.samples.append({
                "ticket_no": n.ticket_no, "received_at": n.received_at.isoformat(), "category": "/".join(n.category),
                "place": " ".join(p for p in (n.district, n.street, n.community) if p), "address": n.address,
                "caller": n.caller_masked, "content": n.content_masked, "excluded": n.excluded_reason,
                "ticket_type": n.ticket_type, "status": n.status, "handling_unit": n.handling_unit, "result": n.result_masked,
                "closed_at": n.closed_at.isoformat() if n.closed_at else None,
            })
    return preview

