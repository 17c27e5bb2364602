"""JSON Schemas of the wire formats, generated from the models (`gateway schema`)."""
from __future__ import annotations

from typing import Any

from contracts.feedback import FeedbackDocument
from contracts.receipts import Problem, Receipt
from contracts.reports import Report, WorkOrderRecord


def all_schemas() -> dict[str, dict[str, Any]]:
    return {
        "report": Report.model_json_schema(),
        "work-order": WorkOrderRecord.model_json_schema(),
        "receipt": Receipt.model_json_schema(mode="serialization"),
        "problem": Problem.model_json_schema(mode="serialization"),
        "feedback": FeedbackDocument.model_json_schema(mode="serialization"),
    }
