"""Spreadsheets in and out (gateway/sheets.py): outside text stays text, a small file stays small work."""
from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from gateway.errors import ValidationFailed
from gateway.intake.report_files import read_records
from gateway.sheets import cell_value, read_sheet, row_values, sheet_text
from tests.helpers.files import declared_huge_xlsx, far_cell_xlsx, rows, xlsx

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ['=HYPERLINK("http://evil.example","点击")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_text_that_excel_would_take_for_a_formula_is_written_as_text_and_read_back_as_it_was(text: str) -> None:
    wb = Workbook()
    wb.active.append(row_values([text, 42, None]))
    out = io.BytesIO()
    wb.save(out)
    cell = load_workbook(io.BytesIO(out.getvalue())).active["A1"]
    stored = text.replace("\r", "\n")  # XML keeps a carriage return as a line feed
    assert cell.data_type == "s" and cell.value == "'" + stored  # text, shown with the quote that disarms it
    (values,) = [v for _, v in read_sheet(out.getvalue())]
    assert values[:2] == [stored, 42]  # the gateway reading its own sheet back gets the text as it was


def test_ordinary_values_are_left_alone() -> None:
    assert row_values(["云景里小区", "C000001-001", "'quoted", 3, -3, None]) == ["云景里小区", "C000001-001", "'quoted", 3, -3, None]
    assert sheet_text("'quoted") == "'quoted" and sheet_text("'=1") == "=1"


def test_a_declared_dimension_of_16384_columns_is_not_trusted() -> None:
    hostile = declared_huge_xlsx(rows(2), empty_rows=20_000)
    parsed = read_records(hostile, "周报.xlsx")
    assert len(parsed.records) == 2  # the rows that only hold a cell in column XFD are past the columns read, hence empty
    widths = {len(values) for _, values in read_sheet(hostile)}
    assert max(widths) <= 64


def test_a_workbook_that_is_not_one_is_refused_clearly() -> None:
    with pytest.raises(ValidationFailed, match="not an .xlsx workbook"):
        list(read_sheet(b"PK\x03\x04 not really"))


def test_memory_comes_back_after_a_sheet_with_a_cell_at_row_1048576() -> None:
    """In a subprocess, as a gateway process would read it: resident memory before, at the peak and after (no timings)."""
    script = textwrap.dedent(f"""
        import gc, sys
        sys.path.insert(0, {str(ROOT)!r})
        from gateway.loop.forms_xlsx import read_table1, table1_template
        from gateway.intake.report_files import read_records
        from tests.helpers.files import far_cell_xlsx, xlsx, rows

        def status_mb(field):  # VmRSS now, VmHWM the peak; both of this process only (ru_maxrss would carry the parent's over exec)
            with open("/proc/self/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith(field + ":")) / 1024

        def rss_mb():
            return status_mb("VmRSS")

        before = rss_mb()
        for content, read in ((far_cell_xlsx(table1_template()), lambda c: read_table1(c)),
                              (far_cell_xlsx(xlsx(rows(3))), lambda c: read_records(c, "x.xlsx"))):
            try:
                read(content)
            except Exception:
                pass
        gc.collect()
        peak = status_mb("VmHWM")
        print(before, peak, rss_mb())
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    before, peak, after = map(float, result.stdout.split())
    assert peak - before < 150, (before, peak, after)  # it was 1.7 GB
    assert after - before < 60, (before, peak, after)
