"""Read a received email back the way a person would, and look for personal data in every part of it."""
from __future__ import annotations

import io
import re
from email.message import EmailMessage

from openpyxl import load_workbook

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_CARD = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def xlsx_rows(data: bytes) -> list[list[object]]:
    workbook = load_workbook(io.BytesIO(data))
    return [list(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]


def every_text(message: EmailMessage) -> str:
    """Headers (decoded), every text part, every attachment's name and every spreadsheet cell."""
    texts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        texts.extend(f"{name}: {value}" for name, value in part.items())
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
        elif part.get_filename():
            texts.append(part.get_filename() or "")
            payload = part.get_content()
            if part.get_filename().endswith(".xlsx"):  # type: ignore[union-attr]
                texts.extend(str(cell) for row in xlsx_rows(payload) for cell in row if cell is not None)
    return "\n".join(texts)


def personal_data_in(message: EmailMessage, *forbidden: str) -> list[str]:
    text = every_text(message)
    found = [f for f in forbidden if f and f in text]
    found += MOBILE.findall(text) + ID_CARD.findall(text)
    return found
