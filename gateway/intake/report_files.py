"""Report files (.xlsx, .csv, .jsonl, .json) into report documents, as uploads, `gateway import` and the drop folder need.

Spreadsheets are found by their usual Chinese column headers (INTEGRATION.md
section 1), below any merged title rows, skipping blank rows; the three-level
category may be split into columns. Rows keep their spreadsheet row numbers so
that a bad one is reported where the office can find it.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from gateway.sheets import read_sheet
from gateway.errors import ValidationFailed

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_no": ("工单编号", "工单号", "编号", "ticket_no"),
    # 来电时间 after 创建时间 in an export: the later column wins, so the call's time is kept
    "received_at": ("受理时间", "来电时间", "接收时间", "创建时间", "received_at"),
    "channel": ("渠道", "来源", "来电渠道", "工单来源", "channel"),
    "category": ("问题分类", "诉求类别", "诉求分类", "category"),
    "category_1": ("一级分类",),
    "category_2": ("二级分类",),
    "category_3": ("三级分类",),
    "district": ("所属区", "区县", "所属区县", "被反映区", "district"),
    "street": ("街道", "乡镇", "街道乡镇", "街乡镇", "所属街道", "被反映街乡镇", "被反映街道", "street"),
    "community": ("社区", "村", "社区村", "所属社区", "community"),
    "address": ("地址", "事发地址", "详细地址", "问题点位", "address"),
    "content": ("诉求内容", "来电内容", "反映内容", "主要内容", "content"),
    "title": ("标题", "工单标题", "诉求标题", "title"),
    "caller_name": ("来电人", "姓名", "来电人姓名", "caller", "caller_name"),
    "caller_phone": ("联系电话", "电话", "来电号码", "来电人电话账号", "来电人电话", "phone", "caller_phone"),
    "handling_unit": ("承办单位", "主办单位", "handling_unit"),
    "status": ("办理状态", "状态", "工单状态", "status"),
    "repeat_count": ("重复反映告知单量", "重复反映次数", "repeat_count"),
    "ticket_type": ("工单类型", "诉求类型", "来电类型", "ticket_type"),
    "result": ("处理结果", "办理结果", "答复内容", "回复内容", "result"),
    "closed_at": ("办结时间", "结案时间", "closed_at"),
    "time_limit_days": ("处理时限", "办理时限", "time_limit_days"),
    "company": ("企业名称", "涉及企业", "company"),
    "satisfaction": ("满意度", "satisfaction"),
    "flags": ("标记", "flags"),
}
IGNORE = "ignore"  # a configuration's `columns:` may name a column the gateway must not read


def _clean_header(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return re.sub(r"[\s*:：]|（.*?）|\(.*?\)", "", text)


class ColumnNames:
    """Header names → the fields they are read into: the usual ones (HEADER_ALIASES) and a deployment's own.

    The configuration file's `columns:` section maps another platform's headers
    (``诉求描述: content``, ``事发街道: street``, ``序号: ignore``); a name there wins
    over the built-in one.
    """

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        self.lookup: dict[str, str | None] = {_clean_header(a): f for f, aliases in HEADER_ALIASES.items() for a in aliases}
        for header, field in (extra or {}).items():
            if field != IGNORE and field not in HEADER_ALIASES:
                raise ValueError(f"columns: {header!r} is mapped to {field!r}, which is no field; use one of {', '.join(HEADER_ALIASES)} or {IGNORE}")
            self.lookup[_clean_header(header)] = None if field == IGNORE else field

    def field(self, value: Any) -> str | None:
        if value is None:
            return None
        text = _clean_header(value)
        if text in self.lookup:
            return self.lookup[text]
        if text.replace("/", "") in self.lookup:  # 来电人电话/账号
            return self.lookup[text.replace("/", "")]
        return next((self.lookup[a] for a in text.split("/") if self.lookup.get(a)), None)


BUILTIN = ColumnNames()

SUFFIXES = (".xlsx", ".csv", ".jsonl", ".json")
WORK_ORDER_FIELDS = ("ticket_no", "received_at", "channel", "category", "district", "street", "community", "address", "content", "caller",
                     "handling_unit", "status", "satisfaction", "flags", "likes", "repeat_count", "ticket_type", "result", "closed_at",
                     "time_limit_days", "company")
UNKNOWN_PLACE = {"不详", "未知", "无", "-", "/", "暂无"}  # an export's way of saying it does not know


@dataclass(frozen=True)
class ParsedRows:
    records: list[dict[str, Any]]
    rows: list[int]


def _find_header(rows: list[tuple[int, list[Any]]], columns: ColumnNames) -> tuple[int, dict[int, str]]:
    for position, (_, cells) in enumerate(rows[:30]):
        mapping = {i: key for i, cell in enumerate(cells) if (key := columns.field(cell))}
        if len(mapping) >= 3 and ("content" in mapping.values() or "ticket_no" in mapping.values()):
            return position, mapping
    raise ValidationFailed(
        "no header row found in the first 30 rows: the sheet needs columns such as 工单编号, 受理时间, 问题分类, 诉求内容 "
        "(another platform's own header names can be mapped in the configuration file's columns: section)",
        errors=[{"loc": ["file"], "msg": "no recognised header row"}],
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # ticket and phone numbers that a spreadsheet stored as numbers
    text = str(value).strip()
    return text or None


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d %H:%M", "%Y%m%d%H%M%S")


def local_time(value: Any) -> Any:
    """Spreadsheet times into ISO 8601 (zone-less means Beijing time); unreadable ones are left for validation to name."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day).isoformat()
    text = _text(value)
    if text is None:
        return None
    m = re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})[:：时](\d{1,2})分?(?:[:：](\d{1,2})秒?)?)?", text)
    if m:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return datetime(y, mo, d, h, mi, s).isoformat()
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).isoformat()
        except ValueError:
            continue
    return text


def _days(text: str) -> float | str:
    """处理时限 as an export writes it (7.0, 7天, 3个工作日, 24小时) in days; anything else is left for validation to name."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(天|日|个?工作日|个?自然日|小时|h)?", text)
    if not m:
        return text
    return float(m[1]) / 24 if m[2] in ("小时", "h") else float(m[1])


def _record(cells: list[Any], mapping: dict[int, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for i, key in mapping.items():
        if i < len(cells):
            values[key] = cells[i]
    record: dict[str, Any] = {}
    for key in ("ticket_no", "channel", "district", "street", "community", "address", "content", "handling_unit", "status", "satisfaction"):
        text = _text(values.get(key))
        if text is not None and not (key in ("district", "street", "community", "address") and text in UNKNOWN_PLACE):
            record[key] = text
    title = _text(values.get("title"))
    if title and title not in record.get("content", ""):
        # An export's 标题 names the matter in a few words; the complaint is 标题 and 主要内容 together.
        record["content"] = f"{title}：{record['content']}" if record.get("content") else title
    repeats = _text(values.get("repeat_count"))
    if repeats is not None:
        try:
            record["repeat_count"] = int(float(repeats))
        except ValueError:
            record["repeat_count"] = repeats  # named by validation
    for key in ("received_at", "closed_at"):
        if _text(values.get(key)) is not None:
            record[key] = local_time(values[key])
    for key in ("ticket_type", "result", "company"):
        if (text := _text(values.get(key))) is not None:
            record[key] = text
    limit = _text(values.get("time_limit_days"))
    if limit is not None:
        record["time_limit_days"] = _days(limit)
    levels = [_text(values.get(f"category_{n}")) for n in (1, 2, 3)]
    if any(levels):
        record["category"] = [level for level in levels if level]
    elif _text(values.get("category")):
        record["category"] = _text(values.get("category"))
    name, phone = _text(values.get("caller_name")), _text(values.get("caller_phone"))
    if name or phone:
        record["caller"] = {"name": name, "phone": phone}
    flags = _text(values.get("flags"))
    if flags:
        record["flags"] = [f for f in re.split(r"[,，;；\s]+", flags) if f]
    return record


def _table(rows: Iterable[tuple[int, list[Any]]], columns: ColumnNames) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) for each non-blank row below the header; rows are read as they come."""
    rows = iter(rows)
    head = list(itertools.islice(rows, 30))
    position, mapping = _find_header(head, columns)
    for row_no, cells in itertools.chain(head[position + 1:], rows):
        if all(_text(c) is None for c in cells):
            continue
        yield row_no, _record(cells, mapping)


def header_mapping(content: bytes, filename: str, columns: ColumnNames = BUILTIN) -> tuple[dict[str, str], list[str]]:
    """The file's columns the gateway reads (column → field) and those it leaves out, as iter_records sees them."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".xlsx", ".csv"):
        rows = _xlsx_rows(content) if suffix == ".xlsx" else _csv_rows(content)
        head = list(itertools.islice(rows, 30))
        position, mapping = _find_header(head, columns)
        cells = head[position][1]
        names = {i: str(cells[i]).strip() for i in range(len(cells)) if _text(cells[i]) is not None}
        return {names[i]: field for i, field in mapping.items() if i in names}, [name for i, name in names.items() if i not in mapping]
    if suffix == ".jsonl":
        line = next((line for line in text_lines(content) if line.strip()), "{}")
        try:
            first = json.loads(line)
        except (ValueError, RecursionError):
            first = {}
        keys = [str(k) for k in first] if isinstance(first, dict) else []
        if {"content", "ticket_no"} & set(keys):
            return {k: k for k in keys if k in WORK_ORDER_FIELDS}, [k for k in keys if k not in WORK_ORDER_FIELDS]
        read = {k: field for k in keys if (field := columns.field(k))}  # Chinese keys, as _jsonl reads them
        return read, [k for k in keys if k not in read]
    return {}, []


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    return read_sheet(content)


_ENCODINGS = ("utf-8-sig", "gb18030")  # as Chinese office software writes: UTF-8 (with or without BOM), else GB18030
_STEP = 1 << 20


def _unknown_encoding() -> ValidationFailed:
    return ValidationFailed("the file is neither UTF-8 nor GB18030 text", errors=[{"loc": ["file"], "msg": "unknown encoding"}])


def decode_text(content: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else GB18030."""
    for encoding in _ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _unknown_encoding()


def text_encoding(content: bytes) -> str:
    """The encoding decode_text decodes `content` with, found a megabyte at a time without keeping the text."""
    view = memoryview(content)
    for encoding in _ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), _STEP):
                decoder.decode(view[start:start + _STEP])
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise _unknown_encoding()


def text_lines(content: bytes) -> Iterator[str]:
    """The lines of a text file (split at each line feed, as io.StringIO splits decode_text's text), decoded one at a time.

    A .jsonl month of a million work orders is 540 MB of UTF-8; read as one str in a StringIO (and hashed with a copy
    of its bytes, file_import), the import's peak was 2,984 MiB, and 794 MiB a line at a time.
    Neither encoding has a byte 0x0A inside a character, so splitting the bytes splits the text.
    """
    encoding = text_encoding(content)
    for number, line in enumerate(io.BytesIO(content)):  # shares content's bytes, no copy
        yield line.decode(encoding if number == 0 else "utf-8" if encoding == "utf-8-sig" else encoding)


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(decode_text(content), newline=""))
    for number, row in enumerate(reader, start=1):
        yield number, list(row)


def _jsonl(content: bytes, columns: ColumnNames) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text_lines(content), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            value = {"_line_error": f"not JSON: {exc.msg}"}
        except (RecursionError, ValueError):  # nested too deep, or an integer of thousands of digits
            value = {"_line_error": "not a work order: nested too deep or a number out of range"}
        if isinstance(value, dict) and not ({"content", "ticket_no"} & set(value)):
            # Chinese keys, as exported from a spreadsheet
            mapping = {i: key for i, k in enumerate(value) if (key := columns.field(k))}
            value = _record(list(value.values()), mapping) if mapping else value
        yield number, value


def iter_records(content: bytes, filename: str, columns: ColumnNames = BUILTIN) -> Iterator[tuple[int, Any]]:
    """(row or line number, record) for each work order in a file, read as it goes (a large file is never held twice)."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".xlsx":
        return _table(_xlsx_rows(content), columns)
    if suffix == ".csv":
        return _table(_csv_rows(content), columns)
    if suffix == ".jsonl":
        return _jsonl(content, columns)
    raise ValidationFailed(
        f"files of type {suffix or '(none)'} are not read: send .xlsx, .csv (UTF-8 or GB18030) or .jsonl",
        errors=[{"loc": ["file"], "msg": "unsupported file type"}],
    )


def read_records(content: bytes, filename: str, columns: ColumnNames = BUILTIN) -> ParsedRows:
    """The work-order records in a file, with their row (or line) numbers."""
    pairs = list(iter_records(content, filename, columns))
    return ParsedRows([record for _, record in pairs], [number for number, _ in pairs])


def report_from_file(content: bytes, filename: str, *, kind: str | None, report_id: str | None,
                     period_start: str | None = None, period_end: str | None = None, title: str | None = None,
                     columns: ColumnNames = BUILTIN) -> tuple[dict[str, Any], list[int] | None]:
    """A report document (INTEGRATION.md section 1) and the row numbers of its records (None for .json)."""
    if PurePath(filename).suffix.lower() == ".json":
        try:
            data = json.loads(decode_text(content))
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"the .json file is not valid JSON (line {exc.lineno}: {exc.msg})", errors=[{"loc": ["file"], "msg": exc.msg}]) from exc
        except (RecursionError, ValueError):
            raise ValidationFailed("the .json file is nested too deep or holds a number out of range; it is no report",
                                   errors=[{"loc": ["file"], "msg": "not a report"}]) from None
        return data, None
    parsed = read_records(content, filename, columns)
    report: dict[str, Any] = {"report_id": report_id, "kind": kind, "records": parsed.records}
    if period_start or period_end:
        report["period"] = {"start": period_start, "end": period_end}
    if title:
        report["title"] = title
    return report, parsed.rows
