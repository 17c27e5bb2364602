"""A personal-data scanner over everything the whole test suite made the gateway produce.

Installed by tests/conftest.py before any test module is imported, it keeps a
copy of every email a test SMTP server received (every part, spreadsheet
cells included), every metrics exposition, every feedback document the
command-center simulator stored and every log line of this process; at the end
of the session it also reads every `.eml` file and every log file of the
gateway processes the tests started (under pytest's temporary directory). It
fails the run on any unmasked mainland mobile number, any valid 18-digit ID-card
number, or any caller name that a test or the demo generator put into a report.
"""
from __future__ import annotations

import email
import io
import logging
import re
import threading
from email import policy
from pathlib import Path
from typing import Any

# A mobile number where one can stand: not glued to letters or digits (the hex tail of a UUID such as
# …-d15121174580, a longer number, an identifier), nor a masked one's stars, nor the decimals of a float;
# after Chinese text, 电话, a colon, a space or +86 (also written +8613812345678) it is found.
_EDGE = r"0-9A-Za-z*"
MOBILE = re.compile(rf"(?<![{_EDGE}])(?<![0-9]\.)(?:\+?86[- ]?)?(1[3-9][0-9]{{9}})(?![{_EDGE}])")
ID_CARD = re.compile(r"(?<![\dA-Za-z.])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")

_lock = threading.Lock()
emails: list[bytes] = []
expositions: list[str] = []
log_lines: list[str] = []
simulator_states: list[Any] = []
caller_names: set[str] = set()


class _Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a badly formatted record is the test's own business
            return
        with _lock:
            log_lines.append(line)


def install() -> None:
    import connectors.mail
    import connectors.simulator
    import gateway.demo.generator
    import gateway.metrics
    import tests.helpers.reports
    import tests.helpers.smtp

    caller_names.add(tests.helpers.reports.CALLER_NAME)

    inbox = tests.helpers.smtp.Inbox
    original_data = inbox.handle_DATA

    async def handle_data(self: Any, server: Any, session: Any, envelope: Any) -> str:
        with _lock:
            emails.append(envelope.original_content or b"")
        return await original_data(self, server, session, envelope)

    inbox.handle_DATA = handle_data  # type: ignore[method-assign]

    folder_send = connectors.mail.FolderTransport.send

    def send(self: Any, message: Any, recipients: list[str], *, name: str) -> Any:
        with _lock:
            emails.append(bytes(message))
        return folder_send(self, message, recipients, name=name)

    connectors.mail.FolderTransport.send = send  # type: ignore[method-assign]

    exposition = gateway.metrics.Metrics.exposition

    def expose(self: Any) -> bytes:
        text = exposition(self)
        with _lock:
            expositions.append(text.decode("utf-8", "replace"))
        return text

    gateway.metrics.Metrics.exposition = expose  # type: ignore[method-assign]

    create = connectors.simulator.create_simulator

    def create_simulator(*args: Any, **kwargs: Any) -> Any:
        app = create(*args, **kwargs)
        simulator_states.append(app[connectors.simulator.STATE])
        return app

    connectors.simulator.create_simulator = create_simulator  # type: ignore[assignment]

    make_name = gateway.demo.generator._name

    def name(rng: Any) -> str:
        made = make_name(rng)
        if len(made) >= 3:  # two-character names are too often ordinary words to scan for
            caller_names.add(made)
        return made

    gateway.demo.generator._name = name  # type: ignore[assignment]

    handler = _Capture()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def _email_texts(raw: bytes) -> list[str]:
    from openpyxl import load_workbook

    message = email.message_from_bytes(raw, policy=policy.default)
    texts = [f"{k}: {v}" for k, v in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
        elif (part.get_filename() or "").endswith(".xlsx"):
            workbook = load_workbook(io.BytesIO(part.get_content()), read_only=True)
            texts.extend(str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None)
    return texts


def _id_valid(number: str) -> bool:
    from gateway.pipeline.privacy import id_card_valid

    return id_card_valid(number)


def findings_in(text: str, names: set[str]) -> list[str]:
    found = [f"mobile {m}" for m in MOBILE.findall(text)]
    found += [f"ID card {m}" for m in ID_CARD.findall(text) if _id_valid(m)]
    found += [f"caller name {n}" for n in names if n in text]
    return found


def scan(tmp_root: Path | None, *, collected: bool = True, names: set[str] | None = None) -> tuple[dict[str, int], list[str]]:
    """Everything collected (unless collected=False), and the files under tmp_root; returns the counts scanned and the findings."""
    names = set(caller_names) if names is None else set(names)
    counts = {"emails": 0, "email parts and cells": 0, "eml files": 0, "log lines": 0, "log files": 0, "metric expositions": 0, "feedback documents": 0}
    problems: list[str] = []

    def check(where: str, text: str) -> None:
        for finding in findings_in(text, names):
            problems.append(f"{where}: {finding}")

    with _lock:
        raw_emails, lines, exposed = (list(emails), list(log_lines), list(expositions)) if collected else ([], [], [])
    for i, raw in enumerate(raw_emails):
        texts = _email_texts(raw)
        counts["emails"] += 1
        counts["email parts and cells"] += len(texts)
        check(f"email {i}", "\n".join(texts))
    for line in lines:
        counts["log lines"] += 1
        check("log line", line)
    for text in exposed:
        counts["metric expositions"] += 1
        check("metrics", text)
    for state in simulator_states if collected else []:
        for key, document in state.feedback.items():
            counts["feedback documents"] += 1
            check(f"feedback {key}", str(document))
    if tmp_root is not None and tmp_root.exists():
        for path in tmp_root.rglob("*.eml"):
            counts["eml files"] += 1
            check(str(path), "\n".join(_email_texts(path.read_bytes())))
        for path in tmp_root.rglob("*.log"):
            text = path.read_text(encoding="utf-8", errors="replace")
            counts["log files"] += 1
            counts["log lines"] += text.count("\n")
            check(str(path), text)
    return counts, sorted(set(problems))
