"""Wire formats shared with the command center, the office and the workstations.

Everything another party builds against is a pydantic model here; the OpenAPI
document and `gateway schema` are generated from these models, never kept by hand.
"""
from contracts.reports import (
    Caller,
    Period,
    Report,
    ReportEnvelope,
    ReportKind,
    WorkOrderRecord,
)
from contracts.receipts import ColumnMapping, Problem, ProblemItem, Receipt, RejectedRecord, UploadPreview

__all__ = [
    "Caller",
    "ColumnMapping",
    "Period",
    "Problem",
    "ProblemItem",
    "Receipt",
    "RejectedRecord",
    "Report",
    "ReportEnvelope",
    "ReportKind",
    "UploadPreview",
    "WorkOrderRecord",
]
