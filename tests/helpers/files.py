"""Report files as the command center's office software writes them."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any

from openpyxl import Workbook

HEADERS = ["工单编号", "来电时间", "渠道", "一级分类", "二级分类", "三级分类", "所属区", "街道/乡镇", "社区/村", "事发地址", "诉求内容", "来电人", "联系电话", "承办单位", "办理状态", "满意度"]


def rows(n: int = 5, start: int = 1) -> list[list[Any]]:
    return [
        [f"26111600{i:05d}", datetime(2026, 11, 16, 9, i % 60), "电话", "城乡建设", "市政设施", "道路积水", "通州区", "梨园镇", "云景里社区",
         f"云景里小区{i}号楼", f"我叫张三，电话1381234{i:04d}，小区门口积水。", "张三", f"1381234{i:04d}", "梨园镇政府", "已办结", "满意"]
        for i in range(start, start + n)
    ]


def xlsx(data: list[list[Any]], *, title_rows: bool = True, blank_rows: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title_rows:
        ws.append(["通州区接诉即办第47周工单明细"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
        ws.append(["统计时段：2026年11月16日至22日"])
    ws.append(HEADERS)
    for i, row in enumerate(data):
        ws.append(row)
        if blank_rows and i == 1:
            ws.append([None] * len(HEADERS))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(data: list[list[Any]], encoding: str = "utf-8-sig", headers: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers or ["工单编号", "受理时间", "问题分类", "街道", "社区", "诉求内容", "联系电话"])
    for row in data:
        writer.writerow(row)
    return out.getvalue().encode(encoding)


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))
    return out.getvalue()


def rewrite_sheet(content: bytes, rewrite: Any) -> bytes:
    """The workbook with its first sheet's XML passed through `rewrite` (as a hostile sender would edit it)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = rewrite(data.decode("utf-8")).encode("utf-8")
            target.writestr(info, data)
    return out.getvalue()


def declared_huge_xlsx(data: list[list[Any]] | None = None, *, empty_rows: int = 50_000) -> bytes:
    """A small workbook whose sheet declares A1:XFD<n> and holds n rows that each end in column XFD (16,384 columns)."""
    body = xlsx(data if data is not None else rows(2), title_rows=False, blank_rows=False)

    def rewrite(xml: str) -> str:
        import re

        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:XFD{empty_rows}"/>', xml)
        extra = "".join(f'<row r="{r}"><c r="XFD{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(len(data or rows(2)) + 2, empty_rows + 1))
        return xml.replace("</sheetData>", extra + "</sheetData>")

    return rewrite_sheet(body, rewrite)


def far_cell_xlsx(content: bytes) -> bytes:
    """The workbook with one more cell, at A1048576 (the last row Excel has)."""
    return rewrite_sheet(content, lambda xml: xml.replace(
        "</sheetData>", '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>end</t></is></c></row></sheetData>'))


def xlsx_with(headers: list[str], data: list[list[Any]]) -> bytes:
    """A workbook of one header row and the data rows, as a platform exports it."""
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in data:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
