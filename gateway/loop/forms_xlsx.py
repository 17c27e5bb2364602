"""The office's spreadsheets laid out like seed 000's forms: 附表1 (blank, filled, read back) and 附表2.

Table 1 is read by its labels, not by fixed cells, so a form whose rows were
inserted or widened by hand still reads; every problem names the row, in the
words of the form.
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from contracts.consultations import OUTCOME_NAMES, Consultation, Outcome
from gateway.sheets import cell_value, read_sheet, row_values
from gateway.errors import ValidationFailed

ITEM_ROWS = 10
TICK = "√"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="center")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
OUTCOME_COLUMNS = [Outcome.on_site, Outcome.short_term, Outcome.unresolved]  # C, D, E


TABLE1_MAX_ROWS = 400  # the form has ITEM_ROWS items; a filled one may add rows, not hundreds


def _boxed(ws: Any, cell_range: str) -> None:
    for row in ws[cell_range]:
        for cell in row:
            cell.border = _BOX


def _form(sheet_title: str, widths: tuple[int, ...], heading: str) -> tuple[Workbook, Any]:
    """A workbook whose first sheet has the form's column widths and its title across the top, as the seed's forms."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title
    for col, width in zip("ABCDEF", widths):
        ws.column_dimensions[col].width = width
    ws.merge_cells("A1:F1")
    ws["A1"] = heading
    ws["A1"].font, ws["A1"].alignment = Font(bold=True, size=16), _CENTER
    ws.row_dimensions[1].height = 30
    return wb, ws


def table1_template(hall: str = "协商议事厅") -> bytes:
    """A blank 附表1, ready to fill in Excel or WPS: ticks chosen from a list, dates as dates."""
    return _saved(_table1_sheet(hall, ITEM_ROWS)[0])


def _saved(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _table1_sheet(hall: str, item_rows: int) -> tuple[Workbook, Any]:
    wb, ws = _form("附表1", (16, 44, 12, 16, 22, 26), cell_value(f"{hall}协商议事活动开展情况表"))
    ws["A2"], ws["C2"], ws["E2"] = "活动时间（自）", "至", "活动编号（可不填）"
    ws["A3"] = "站（室）或活动组"
    ws["A4"] = "协商议事主题"
    ws["A5"] = "参加委员"
    for r in (3, 4, 5):
        ws.merge_cells(f"B{r}:F{r}")
    ws.append([])
    header = ["序号", "协商议事具体事项", OUTCOME_NAMES[Outcome.on_site], OUTCOME_NAMES[Outcome.short_term],
              OUTCOME_NAMES[Outcome.unresolved], "相关线索编号或工单编号（可不填）"]
    for col, text in zip("ABCDEF", header):
        ws[f"{col}6"] = text
        ws[f"{col}6"].font, ws[f"{col}6"].alignment = Font(bold=True), _CENTER
    ws.row_dimensions[6].height = 45
    ticks = DataValidation(type="list", formula1=f'"{TICK}"', allow_blank=True, showErrorMessage=True,
                           errorTitle="请勾选", error=f"请在所选结果一栏填“{TICK}”，每个事项只选一种结果")
    ws.add_data_validation(ticks)
    for i in range(item_rows):
        r = 7 + i
        ws[f"A{r}"] = i + 1
        ws[f"A{r}"].alignment = _CENTER
        ws[f"B{r}"].alignment = _WRAP
        ws.row_dimensions[r].height = 30
        ticks.add(f"C{r}:E{r}")
        for col in "CDE":
            ws[f"{col}{r}"].alignment = _CENTER
    total = 7 + item_rows
    ws[f"A{total}"] = "合计"
    ws[f"A{total}"].alignment = _CENTER
    for col in "CDE":
        ws[f"{col}{total}"] = f'=COUNTIF({col}7:{col}{total - 1},"{TICK}")'
        ws[f"{col}{total}"].alignment = _CENTER
    _boxed(ws, f"A2:F{total}")
    foot = total + 1
    ws[f"A{foot}"], ws[f"C{foot}"], ws[f"E{foot}"] = "委员工作站（室）或活动组负责人", "委室主任", "填表日期"
    ws[f"A{foot}"].alignment = _WRAP
    ws.row_dimensions[foot].height = 32
    for cell in ("B2", "D2", f"F{foot}"):
        ws[cell].number_format = "yyyy-mm-dd"
    ws[f"A{foot + 2}"] = (f"填表说明：每个事项在三种结果中选一种，在该栏填“{TICK}”；活动结束后3个工作日内经区政协相关委室报区政协办公室。"
                          "如事项来自线索包，请在最后一栏填写线索编号（如C000001-002）或工单编号，多个用顿号分隔。")
    ws.merge_cells(f"A{foot + 2}:F{foot + 2}")
    ws[f"A{foot + 2}"].alignment = _WRAP
    ws.row_dimensions[foot + 2].height = 45
    ws.print_title_rows = "1:6"
    return wb, ws


def table1_filled(doc: Consultation, hall: str = "协商议事厅") -> bytes:
    """A filed Table 1 as the 附表1 form, filled: the blank form's layout with its values (read back by `read_table1`)."""
    wb, ws = _table1_sheet(hall, max(ITEM_ROWS, len(doc.items)))
    ws["B2"], ws["D2"], ws["F2"] = doc.period.start, doc.period.end, cell_value(doc.activity_id or "")
    ws["B3"], ws["B4"], ws["B5"] = cell_value(doc.workstation), cell_value(doc.topic), cell_value("、".join(doc.members))
    for i, item in enumerate(doc.items):
        r = 7 + i
        ws[f"B{r}"] = cell_value(item.text)
        ws[f"{'CDE'[OUTCOME_COLUMNS.index(item.outcome)]}{r}"] = TICK
        ws[f"F{r}"] = cell_value("、".join([*item.clue_ids, *item.ticket_nos]))
    foot = 7 + max(ITEM_ROWS, len(doc.items)) + 1
    ws[f"B{foot}"], ws[f"D{foot}"] = cell_value(doc.responsible_person or ""), cell_value(doc.committee_director or "")
    ws[f"F{foot}"] = doc.filled_on
    return _saved(wb)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _date(value: Any, where: str, problems: list[str]) -> date | None:
    if value is None or _text(value) == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    problems.append(f"{where}：“{text}”不是日期，请写成2026-11-20或2026年11月20日")
    return None


def _split(value: str) -> list[str]:
    return [part for part in re.split(r"[、，,；;\s]+", value) if part]


def read_table1(content: bytes, *, filename: str = "附表1.xlsx", activity_id: str | None = None) -> Consultation:
    """A filled 附表1 as a Table 1; ValidationFailed names each problem by row, as the form says it."""
    # The form has about 30 rows of 6 columns: whatever the file declares, no more is read.
    rows = {r: values for r, values in read_sheet(content, what=f"{filename}（附表1）", max_cols=6, max_rows=TABLE1_MAX_ROWS)}
    label_row: dict[str, int] = {}
    for r, values in rows.items():
        first = _text(values[0]) if values else ""
        for label in ("活动时间", "站（室）或活动组", "协商议事主题", "参加委员", "序号", "合计", "委员工作站（室）或活动组负责人"):
            if first.startswith(label) and label not in label_row:
                label_row[label] = r
    missing = [label for label in ("活动时间", "站（室）或活动组", "协商议事主题", "序号") if label not in label_row]
    if missing:
        raise ValidationFailed(f"{filename}：找不到“{'”“'.join(missing)}”一栏；请使用 `gateway template table1` 生成的模板填写")
    problems: list[str] = []
    r = label_row["活动时间"]
    start = _date(rows[r][1], f"第{r}行 活动时间（自）", problems)
    end = _date(rows[r][3], f"第{r}行 活动时间（至）", problems) or start
    given_id = _text(rows[r][5]) or activity_id
    workstation = _text(rows[label_row["站（室）或活动组"]][1])
    topic = _text(rows[label_row["协商议事主题"]][1])
    members = _split(_text(rows[label_row["参加委员"]][1])) if "参加委员" in label_row else []
    if start is None:
        problems.append(f"第{r}行：请填写活动时间")
    if not workstation:
        problems.append(f"第{label_row['站（室）或活动组']}行：请填写站（室）或活动组名称")
    if not topic:
        problems.append(f"第{label_row['协商议事主题']}行：请填写协商议事主题")
    items = []
    last = label_row.get("合计", max(rows) + 1)
    for r in range(label_row["序号"] + 1, last):
        values = rows.get(r) or []
        text = _text(values[1]) if len(values) > 1 else ""
        ticks = [o for o, v in zip(OUTCOME_COLUMNS, values[2:5]) if _text(v) not in ("", "□", "☐", "0")]
        if not text and not ticks:
            continue
        if not text:
            problems.append(f"第{r}行：勾选了结果，但没有填写协商议事具体事项")
            continue
        if len(ticks) != 1:
            problems.append(f"第{r}行（{text[:12]}）：三种结果须选且只选一种，现在选了{len(ticks)}种")
            continue
        refs = _split(_text(values[5]) if len(values) > 5 else "")
        items.append({"text": text, "outcome": ticks[0].value,
                      "clue_ids": [x for x in refs if re.fullmatch(r"C\d{6}-\d{3}", x)],
                      "ticket_nos": [x for x in refs if not re.fullmatch(r"C\d{6}-\d{3}", x)]})
    if not items and not problems:
        problems.append("表中没有填写任何协商议事具体事项")
    foot: dict[str, Any] = {}
    if "委员工作站（室）或活动组负责人" in label_row:
        fr = label_row["委员工作站（室）或活动组负责人"]
        foot = {"responsible_person": _text(rows[fr][1]) or None, "committee_director": _text(rows[fr][3]) or None,
                "filled_on": _date(rows[fr][5], f"第{fr}行 填表日期", problems)}
    if problems:
        raise ValidationFailed(f"{filename}：" + "；".join(problems), errors=[{"loc": ["file"], "msg": p} for p in problems])
    try:
        return Consultation.model_validate({
            "activity_id": given_id or None, "workstation": workstation, "topic": topic, "members": members,
            "period": {"start": start, "end": end}, "items": items, **foot,
        })
    except ValidationError as exc:
        raise ValidationFailed(f"{filename}：" + "；".join(e["msg"] for e in exc.errors()),
                               errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]) from exc


def table2_xlsx(month_title: str, rows: list[dict[str, Any]], totals: dict[str, int], reconciliation: list[tuple[str, int]], made_on: str) -> bytes:
    """附表2, one row per workstation or group and topic, the totals row, and the reconciliation figures beside it."""
    wb, ws = _form("附表2", (28, 36, 16, 12, 16, 22), cell_value(month_title))
    ws.merge_cells("A2:F2")
    ws["A2"] = cell_value(made_on)
    ws["A2"].alignment = Alignment(horizontal="right")
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    ws.merge_cells("C3:C4")
    ws.merge_cells("D3:F3")
    ws["A3"], ws["B3"], ws["C3"], ws["D3"] = "委员工作站（室）或活动组名称", "协商议事主题", "协商议事具体事项数量（件）", "其中：（件）"
    ws["D4"], ws["E4"], ws["F4"] = "现场解决", "短期内可协调解决（1-2个月）", "未解决但后续可形成社情民意信息或提案"
    for row in ws["A3:F4"]:
        for cell in row:
            cell.font, cell.alignment = Font(bold=True), _CENTER
    ws.row_dimensions[4].height = 45
    r = 5
    for row in rows:
        ws.append(row_values([row["workstation"], row["topic"], row["items"], row["on_site"], row["short_term"], row["unresolved"]]))
        for cell in ws[r]:
            cell.alignment = _WRAP if cell.column_letter in "AB" else _CENTER
        r += 1
    ws.append(["合计", "", totals["items"], totals["on_site"], totals["short_term"], totals["unresolved"]])
    for cell in ws[r]:
        cell.font, cell.alignment = Font(bold=True), _CENTER
    _boxed(ws, f"A3:F{r}")
    ws.freeze_panes = "A5"
    ws[f"A{r + 2}"] = "区政协办公室主任：                    委室负责人："
    side = wb.create_sheet("核对数据")
    side.column_dimensions["A"].width = 40
    side.column_dimensions["B"].width = 14
    side.append(["项目", "数量"])
    for cell in side[1]:
        cell.font = Font(bold=True)
    for name, value in reconciliation:
        side.append([name, value])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
