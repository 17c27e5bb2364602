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
from contracts.receipts import Problem, ProblemItem, Receipt, RejectedRecord

__all__ = [
    "Caller",
    "Period",
    "Problem",
    "ProblemItem",
    "Receipt",
    "RejectedRecord",
    "Report",
    "ReportEnvelope",
    "ReportKind",
    "WorkOrderRecord",
]
