"""Spreadsheets in and out: outside text written as text, and a small file that cannot make big work.

Writing (OWASP, CSV injection): a text that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return would be read by Excel or WPS as a formula; every
writer puts each value through `cell_value`, which prefixes such a text with a
single quote (and drops the control characters an .xlsx cannot hold), and
`sheet_text` takes the quote off again when the gateway reads its own sheet
back. Our own formulas (the totals of the blank 附表1) are set directly.

Reading: `read_sheet` is the one reader of uploaded workbooks (reports and
Table 1s). It refuses archives that unpack to too much, ignores the size the
sheet declares (a 2 KB file can declare A1:XFD1048576), never pads a row
beyond `max_cols` columns, skips empty rows without keeping them, and reads at
most `max_cells` cells.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from gateway.errors import ValidationFailed

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_RATIO = 200
MAX_COLS = 64  # a 12345 export has about 31 columns
MAX_CELLS = 40_000_000  # more than an Excel sheet of 31 columns can hold (1,048,576 rows)


def cell_value(value: Any) -> Any:
    """A value as a cell holds it: a text that could be a formula stays text."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def row_values(values: Sequence[Any]) -> list[Any]:
    return [cell_value(v) for v in values]


def sheet_text(value: Any) -> Any:
    """A cell read back: the quote `cell_value` put before a formula-like text taken off again."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1] in (*FORMULA_START, "\n"):
        return value[1:]
    return value


def check_archive(content: bytes, what: str = "the file") -> None:
    """An .xlsx is a zip archive: refuse one that is not, or that would unpack to more than is safe (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise ValidationFailed(f"{what} is not an .xlsx workbook (not a zip archive); save it as Excel 2007+ .xlsx",
                               errors=[{"loc": ["file"], "msg": "not an xlsx"}]) from exc
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNCOMPRESSED or (info.file_size > 10 * 1024 * 1024 and ratio > MAX_RATIO):
            raise ValidationFailed(
                f"the workbook would unpack to more than is safe ({info.filename}: {info.file_size} bytes from {info.compress_size}); split the report",
                errors=[{"loc": ["file"], "msg": "xlsx too large when unpacked"}],
            )
    if "[Content_Types].xml" not in archive.namelist():
        raise ValidationFailed(f"{what} is a zip archive but not an .xlsx workbook", errors=[{"loc": ["file"], "msg": "not an xlsx"}])


def read_sheet(content: bytes, *, what: str = "the .xlsx workbook", max_cols: int = MAX_COLS, max_rows: int | None = None,
               max_cells: int = MAX_CELLS) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of the first sheet, read lazily and bounded; ValidationFailed for a file that cannot or may not be read."""
    check_archive(content, what)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise ValidationFailed(f"{what} cannot be read ({type(exc).__name__}: {exc})", errors=[{"loc": ["file"], "msg": "unreadable xlsx"}]) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ValidationFailed(f"{what} has no worksheet", errors=[{"loc": ["file"], "msg": "no worksheet"}])
        sheet.reset_dimensions()  # the declared <dimension> is the sender's word, not the data's
        rows = sheet.iter_rows(max_col=max_cols, values_only=True)
        number = cells = 0
        while max_rows is None or number < max_rows:
            try:  # read_only workbooks parse lazily: a broken sheet fails here, row by row, not at load
                row = next(rows)
            except StopIteration:
                break
            except Exception as exc:
                raise ValidationFailed(f"{what} cannot be read after row {number} ({type(exc).__name__}: {exc}); save it again from Excel",
                                       errors=[{"loc": ["file"], "msg": "unreadable xlsx"}]) from exc
            number += 1
            if all(v is None or v == "" for v in row):
                continue  # missing rows come as one shared empty tuple: skipping them costs nothing
            values = [sheet_text(v) for v in row]
            cells += sum(v is not None for v in values)
            if cells > max_cells:
                raise ValidationFailed(f"{what} holds more than {max_cells:,} cells; split it into files of at most about half a million rows",
                                       errors=[{"loc": ["file"], "msg": "too many cells"}])
            yield number, values
    finally:
        workbook.close()
