"""Logging: plain text for a terminal, one JSON object per line for a collector (GATEWAY_LOG_FORMAT=json).

Fields a line can carry besides time, level, logger and message: report_id,
ticket_count, packet_id, job_id (the queue message), actor, outbox_id,
consultation_id, client. They come from `extra=` or from the context that
`set_context()` sets (the worker middleware, for every message it runs).

Personal data never reaches a log line: every line, text or JSON, goes through
the same masking of phone, ID-card and bank-card numbers as the clue packets,
as a last safety net behind code that never logs a complaint's text.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

FIELDS = ("report_id", "ticket_count", "packet_id", "job_id", "actor", "outbox_id", "consultation_id", "client")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("gateway_log_context", default={})  # noqa: B039 (never mutated)

_DIGITS = re.compile(r"(?<![\dA-Za-z])(?:1[3-9]\d{9}|\d{17}[\dXx]|\d{15,19}|0\d{2,3}-?\d{7,8})(?![\dA-Za-z])")


def redact(text: str) -> str:
    """Phone, ID-card and bank-card numbers out of a log line (their first 3 digits kept, to tell them apart)."""
    return _DIGITS.sub(lambda m: m.group(0)[:3] + "*" * (len(m.group(0)) - 3), text)


def set_context(**fields: Any) -> contextvars.Token[dict[str, Any]]:
    return _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def reset_context(token: contextvars.Token[dict[str, Any]]) -> None:
    _context.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        line.update(_context.get())
        for name in FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = {**_context.get(), **{name: getattr(record, name) for name in FIELDS if hasattr(record, name)}}
        if fields:
            text += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        return redact(text)


def setup(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
