"""Report files from the drop folder and `gateway import`: read, store once (by content hash), say why not."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.db.models import ImportedFile
from gateway.errors import ValidationFailed
from gateway.intake.report_files import BUILTIN, SUFFIXES, ColumnNames, iter_records, report_from_file
from gateway.intake.receive import ReceiveReport, Received, store_report, store_stream
from gateway.uow import UnitOfWorkFactory

KINDS = {"weekly": "weekly", "monthly": "monthly", "express": "express", "special": "special", "urgent": "urgent",
         "周报": "weekly", "月报": "monthly", "快报": "express", "专报": "special", "突发": "urgent"}
NAME = re.compile(r"^(?P<kind>[^_]+)_(?P<report_id>[A-Za-z0-9][A-Za-z0-9.\-]*)(?:_(?P<start>\d{4}-\d{2}-\d{2})_(?P<end>\d{4}-\d{2}-\d{2}))?$")
NAMING_HELP = "name the file <kind>_<report_id>[_<period start>_<period end>].xlsx, e.g. 周报_TZ-2026-W47_2026-11-16_2026-11-22.xlsx (kind: 周报 月报 快报 专报 突发 or weekly …); a .json file holds a whole report"


@dataclass(frozen=True)
class FileMeta:
    kind: str | None
    report_id: str | None
    period_start: str | None = None
    period_end: str | None = None


@dataclass(frozen=True)
class FileOutcome:
    sha256: str
    received: Received | None  # None: this content was imported before


def meta_from_name(path: Path) -> FileMeta:
    if path.suffix.lower() == ".json":
        return FileMeta(kind=None, report_id=None)
    m = NAME.match(path.stem)
    if not m or m["kind"] not in KINDS:
        raise ValidationFailed(f"{path.name}: cannot tell the report from the file name: {NAMING_HELP}", errors=[{"loc": ["filename"], "msg": "unrecognised name"}])
    return FileMeta(kind=KINDS[m["kind"]], report_id=m["report_id"], period_start=m["start"], period_end=m["end"])


def _stream_digest(content: bytes, envelope: dict[str, Any]) -> str:
    """The body digest of a streamed file's report: the file's bytes, then its envelope (without a copy of the bytes)."""
    digest = hashlib.sha256(content)
    digest.update(json.dumps(envelope, sort_keys=True).encode())
    return digest.hexdigest()


def import_file(uow_factory: UnitOfWorkFactory, content: bytes, filename: str, meta: FileMeta, *, client_id: str, source: str, partial: bool = False,
                columns: ColumnNames = BUILTIN) -> FileOutcome:
    """Store the report in a file once; the same content again is recognised by its hash."""
    if not filename.lower().endswith(SUFFIXES):
        raise ValidationFailed(f"{filename}: files of this type are not read; use .xlsx, .csv, .jsonl or .json", errors=[{"loc": ["file"], "msg": "unsupported file type"}])
    digest = hashlib.sha256(content).hexdigest()
    with uow_factory() as uow:
        if uow.session.get(ImportedFile, digest) is not None:
            return FileOutcome(digest, None)
        if filename.lower().endswith(".json"):
            data, rows = report_from_file(content, filename, kind=meta.kind, report_id=meta.report_id, columns=columns)
            received = store_report(uow.session, ReceiveReport(client_id=client_id, data=data, partial=partial, source=source, row_numbers=rows))
        else:
            # A spreadsheet or .jsonl may be a month of a district: read and stored a chunk at a time.
            envelope = {"report_id": meta.report_id, "kind": meta.kind,
                        **({"period": {"start": meta.period_start, "end": meta.period_end}} if meta.period_start or meta.period_end else {})}
            received = store_stream(uow.session, client_id=client_id, source=source, envelope=envelope, records=iter_records(content, filename, columns),
                                    digest=_stream_digest(content, envelope), partial=partial)
        uow.session.add(ImportedFile(sha256=digest, filename=filename[:500], source=source, report_id=received.receipt.report_id))
        uow.commit()
        return FileOutcome(digest, received)
