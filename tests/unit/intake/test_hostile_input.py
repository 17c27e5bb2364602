"""Hypothesis against the contracts and the importers: whatever comes in, the answer is a document that says what was
sent, or a refusal that says where it is wrong; never a crash, never a silent loss.

Each test counts its own examples and outcomes (so that a strategy that only ever produced refusals, or an importer
that refused everything, fails the test that shows it), whatever order the tests run in.
"""
from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from contracts import Report
from contracts.consultations import Consultation, SupervisionUpdate
from gateway.errors import GatewayError
from gateway.intake.report_files import report_from_file
from gateway.loop.forms_xlsx import read_table1, table1_template

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXAMPLES = 300
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
WORDS = st.text(HAN, min_size=1, max_size=12)
TICKET = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_\-]{0,20}\Z")
NAIVE_TIMES = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))
TIMES = st.builds(lambda t, zone: t.replace(tzinfo=zone).isoformat(), NAIVE_TIMES,
                  st.sampled_from([None, timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]))
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def _junk(valid: st.SearchStrategy[Any], junk: bool) -> st.SearchStrategy[Any]:
    """A valid value; with junk, sometimes anything at all."""
    return st.one_of(valid, valid, valid, JSON) if junk else valid


PERIOD = st.builds(lambda start, days: {"start": start.isoformat(), "end": (start + timedelta(days=days)).isoformat()}, DATES, st.integers(0, 40))
BAD_PERIOD = st.builds(lambda start, days: {"start": start.isoformat(), "end": (start - timedelta(days=days)).isoformat()}, DATES, st.integers(1, 5))


def _record(junk: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"ticket_no": _junk(TICKET, junk), "received_at": _junk(TIMES, junk), "content": _junk(st.text(min_size=1, max_size=60), junk)},
        optional={
            "channel": _junk(st.text(max_size=32), junk), "street": _junk(st.text(max_size=30), junk), "district": st.text(max_size=20),
            "category": _junk(st.lists(WORDS, max_size=5), junk), "flags": _junk(st.lists(st.text(max_size=20), max_size=3), junk),
            "caller": _junk(st.fixed_dictionaries({}, optional={"name": st.none() | WORDS, "phone": st.none() | st.text("0123456789-", max_size=20)}), junk),
            "likes": _junk(st.integers(min_value=0, max_value=10_000_000), junk), "unknown_key": JSON,
        },
    )


def _report(junk: bool) -> st.SearchStrategy[dict[str, Any]]:
    """A valid report document; with junk, one that may be wrong anywhere."""
    kinds = ["weekly", "monthly", "express", "special", "urgent"] + (["x"] if junk else [])
    return st.fixed_dictionaries(
        {"report_id": _junk(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,30}\Z"), junk), "kind": st.sampled_from(kinds),
         "period": _junk(PERIOD | BAD_PERIOD, True) if junk else PERIOD, "records": st.lists(_record(junk), min_size=0 if junk else 1, max_size=4)},
        optional={"issued_at": _junk(TIMES, junk), "title": _junk(st.text(max_size=50), junk), "summary": st.text(max_size=50)},
    )


# Also any JSON at all, and the report's keys with any values.
FIELDS = st.fixed_dictionaries({}, optional={
    "report_id": st.text(max_size=20), "kind": st.sampled_from(["weekly", "monthly", "express", "special", "urgent", "x"]),
    "period": JSON, "issued_at": st.text(max_size=30), "records": st.lists(JSON, max_size=4), "title": JSON,
})

_MISSING = object()
_SPLIT = object()  # a value the model reshapes before it validates its parts: a category (split at "/", empty levels dropped)


def _follow(data: Any, loc: tuple[int | str, ...]) -> Any:
    value = data
    for previous, step in zip((None, *loc), loc):
        if previous == "category" and isinstance(step, int):
            return _SPLIT
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        elif isinstance(value, str):
            return _SPLIT
        else:
            return _MISSING
    return value


def _same(a: Any, b: Any) -> bool:
    return a is b or a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _assert_names_where(exc: ValidationError, data: Any, whole_document_words: tuple[str, ...]) -> None:
    """Every error says where: a field that is missing, a value that is there (and is the one it quotes), or the document."""
    errors = exc.errors()
    assert errors
    for error in errors:
        loc, kind = tuple(error["loc"]), error["type"]
        assert error["msg"]
        if not loc:  # about the whole document: not an object at all, or a rule across fields that names them
            assert (kind == "model_type" and not isinstance(data, dict)) or any(word in error["msg"] for word in whole_document_words), error
        elif kind == "missing":
            parent = _follow(data, loc[:-1])
            assert parent is _SPLIT or (isinstance(parent, dict) and loc[-1] not in parent), error
        else:
            found = _follow(data, loc)
            assert found is not _MISSING, error
            assert found is _SPLIT or _same(found, error["input"]) or isinstance(found, dict), error


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=SHANGHAI) if parsed.tzinfo is None else parsed


def _assert_time(got: datetime | None, sent: Any) -> None:
    if sent is None:
        assert got is None
        return
    assert got is not None and got.tzinfo is not None  # a zone-less time is Beijing time
    expected = _time(sent)
    if expected is not None:
        assert got == expected and got.utcoffset() == expected.utcoffset()


def _assert_report_says_what_was_sent(report: Report, data: dict[str, Any]) -> None:
    assert report.report_id == data["report_id"] and report.kind == data["kind"]
    assert report.title == data.get("title") and report.summary == data.get("summary")
    _assert_time(report.issued_at, data.get("issued_at"))
    if data.get("period") is not None and isinstance(data["period"].get("start"), str):
        assert report.period is not None and report.period.start.isoformat() == data["period"]["start"]
    assert len(report.records) == len(data.get("records", []))
    for got, sent in zip(report.records, data.get("records", [])):
        assert got.ticket_no == sent["ticket_no"] and got.content == sent["content"]
        _assert_time(got.received_at, sent["received_at"])
        for name in ("channel", "street", "district", "likes"):
            assert getattr(got, name) == sent.get(name)
        if isinstance(sent.get("category"), list):
            assert got.category == sent["category"]
        assert got.flags == sent.get("flags", [])
        if sent.get("caller") is not None:
            assert got.caller is not None and (got.caller.name, got.caller.phone) == (sent["caller"].get("name"), sent["caller"].get("phone"))


def test_any_json_is_a_report_that_says_what_was_sent_or_a_validation_error_that_says_where() -> None:
    outcomes: Counter[str] = Counter()

    @SETTINGS
    @given(_report(False) | _report(True) | JSON | FIELDS)
    def check(data: Any) -> None:
        try:
            report = Report.model_validate(data)
        except ValidationError as exc:
            _assert_names_where(exc, data, ("period", "records", "summary"))
            outcomes["refused"] += 1
            return
        _assert_report_says_what_was_sent(report, data)
        outcomes["accepted"] += 1

    check()
    assert sum(outcomes.values()) >= EXAMPLES * 0.9, outcomes
    assert outcomes["accepted"] >= 10 and outcomes["refused"] >= 10, outcomes


def _table1(junk: bool) -> st.SearchStrategy[dict[str, Any]]:
    item = st.fixed_dictionaries({"text": _junk(st.text(min_size=1, max_size=50), junk),
                                  "outcome": _junk(st.sampled_from(["on_site", "short_term", "unresolved"]), junk)},
                                 optional={"ticket_nos": st.lists(TICKET, max_size=3), "responsible": WORDS})
    return st.fixed_dictionaries(
        {"workstation": _junk(WORDS, junk), "period": _junk(PERIOD | BAD_PERIOD, True) if junk else PERIOD, "topic": _junk(WORDS, junk),
         "items": st.lists(item, min_size=0 if junk else 1, max_size=3)},
        optional={"planned": _junk(st.booleans(), True) if junk else st.just(False), "members": st.lists(WORDS, max_size=3),
                  **({"activity_date": _junk(DATES.map(date.isoformat), True)} if junk else {})},
    )


def _supervision(junk: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "progress": _junk(st.text(max_size=60), junk), "state": _junk(st.sampled_from(["open", "done"]), junk),
        "reporting_date": _junk(DATES.map(date.isoformat), junk), "supervisor": _junk(WORDS, junk)})


def _assert_strings_kept(model: BaseModel, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if isinstance(value, str) and isinstance(getattr(model, name), str):
            assert getattr(model, name) == value


def test_any_json_is_a_table1_that_says_what_was_sent_or_a_validation_error_that_says_where() -> None:
    outcomes: Counter[str] = Counter()

    @SETTINGS
    @given(_table1(False) | _table1(True) | _supervision(False) | _supervision(True) | JSON)
    def check(data: Any) -> None:
        try:
            table = Consultation.model_validate(data)
        except ValidationError as exc:
            _assert_names_where(exc, data, ("item", "planned", "activity_date"))
            outcomes["Table 1 refused"] += 1
        else:
            assert (table.workstation, table.topic) == (data["workstation"], data["topic"])
            assert [(i.text, i.outcome.value) for i in table.items] == [(i["text"], i["outcome"]) for i in data.get("items", [])]
            assert table.planned == data.get("planned", False) and table.members == data.get("members", [])
            assert table.period.start.isoformat() == data["period"]["start"]
            outcomes["Table 1 accepted"] += 1
        try:
            update = SupervisionUpdate.model_validate(data)
        except ValidationError as exc:
            _assert_names_where(exc, data, ())
            outcomes["supervision refused"] += 1
        else:
            _assert_strings_kept(update, data)
            if isinstance(data.get("reporting_date"), str):
                assert update.reporting_date is not None and update.reporting_date.isoformat() == data["reporting_date"]
            outcomes["supervision accepted"] += 1

    check()
    assert sum(outcomes.values()) >= 2 * EXAMPLES * 0.9, outcomes
    assert min(outcomes[k] for k in ("Table 1 refused", "Table 1 accepted", "supervision refused", "supervision accepted")) >= 10, outcomes


def _assert_parsed(result: tuple[dict[str, Any], list[int] | None], filename: str, report_id: str) -> None:
    report, rows = result
    if filename.endswith(".json"):
        assert rows is None  # the document as sent, validated later
        return
    assert report["report_id"] == report_id and report["kind"] == "express"
    assert isinstance(report["records"], list) and rows is not None and len(rows) == len(report["records"])
    assert rows == sorted(set(rows)) and all(r >= 1 for r in rows)  # where each record is in the file, in order


def _assert_refused_with_a_reason(exc: GatewayError) -> None:
    assert exc.status == 422 and exc.detail and exc.errors and all(e["loc"] and e["msg"] for e in exc.errors)


def test_any_bytes_under_any_report_file_name_are_a_report_or_a_gateway_error_with_a_message() -> None:
    outcomes: Counter[str] = Counter()

    @SETTINGS
    @given(st.binary(max_size=2000) | st.text(max_size=300).map(lambda t: ("工单编号,受理时间,诉求内容\n" + t).encode()),
           st.sampled_from(["r.csv", "r.jsonl", "r.json", "r.xlsx"]))
    def check(content: bytes, filename: str) -> None:
        try:
            result = report_from_file(content, filename, kind="express", report_id="FUZZ-1")
        except GatewayError as exc:
            _assert_refused_with_a_reason(exc)
            outcomes["refused"] += 1
            return
        _assert_parsed(result, filename, "FUZZ-1")
        outcomes["parsed"] += 1

    check()
    assert sum(outcomes.values()) >= EXAMPLES * 0.9, outcomes
    assert outcomes["refused"] >= 10 and outcomes["parsed"] >= 10, outcomes


def test_any_csv_text_below_a_header_gives_one_record_per_non_blank_row_with_its_cells() -> None:
    outcomes: Counter[str] = Counter()

    @SETTINGS
    @given(st.text(max_size=400), st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
    def check(text: str, encoding: str) -> None:
        content = ("工单编号,受理时间,诉求内容\n" + text).encode(encoding, errors="replace")
        report, rows = report_from_file(content, "r.csv", kind="express", report_id="FUZZ-2")  # a header is there: never refused
        # What the stdlib's csv reader sees in the same text, row by row.
        decoded = content.decode("gb18030" if encoding == "gb18030" else "utf-8-sig")
        expected = [(number, cells) for number, cells in enumerate(csv.reader(io.StringIO(decoded, newline="")), start=1)
                    if number > 1 and any(c.strip() for c in cells)]
        assert rows == [number for number, _ in expected]
        for record, (_, cells) in zip(report["records"], expected):
            cells = cells + [""] * 3
            assert record.get("ticket_no") == (cells[0].strip() or None)
            assert (record.get("received_at") is not None) == bool(cells[1].strip())
            assert record.get("content") == (cells[2].strip() or None)
        outcomes["rows"] += len(rows or [])
        outcomes["examples"] += 1

    check()
    assert outcomes["examples"] >= EXAMPLES * 0.9 and outcomes["rows"] >= EXAMPLES // 3, outcomes


# A valid report file as the office writes one: it comes back as the same records, whatever the format.
CONTENT = st.text(st.one_of(HAN, st.sampled_from("，。、,;\"' 0123456789abcXYZ\n")), min_size=1, max_size=60).map(str.strip).filter(bool)
GOOD_RECORD = st.fixed_dictionaries({
    "ticket_no": TICKET,
    "received_at": st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(lambda t: t.replace(second=0, microsecond=0)),
    "category": st.lists(WORDS, min_size=1, max_size=3),
    "street": WORDS,
    "content": CONTENT,
    "caller_name": WORDS,
    "caller_phone": st.from_regex(r"\A0\d{2,3}-\d{7,8}\Z"),
})
COLUMNS = ["工单编号", "受理时间", "一级分类", "二级分类", "三级分类", "街道", "诉求内容", "来电人", "联系电话"]


def _cells(r: dict[str, Any], *, as_text: bool) -> list[Any]:
    levels = (r["category"] + [None, None])[:3]
    when = r["received_at"].strftime("%Y-%m-%d %H:%M:%S") if as_text else r["received_at"]
    return [r["ticket_no"], when, *levels, r["street"], r["content"], r["caller_name"], r["caller_phone"]]


def _file(records: list[dict[str, Any]], kind: str) -> bytes:
    if kind == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["通州区接诉即办工单明细"])
        sheet.append(COLUMNS)
        for r in records:
            sheet.append(_cells(r, as_text=False))
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(_cells(r, as_text=True) for r in records)
        return out.getvalue().encode("gb18030")
    lines = [{"ticket_no": r["ticket_no"], "received_at": r["received_at"].isoformat(), "category": r["category"], "street": r["street"],
              "content": r["content"], "caller": {"name": r["caller_name"], "phone": r["caller_phone"]}} for r in records]
    if kind == "json":
        return json.dumps({"report_id": "RT-1", "kind": "express", "records": lines}, ensure_ascii=False).encode()
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()


def test_a_valid_report_file_round_trips_to_the_same_records() -> None:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(GOOD_RECORD, min_size=1, max_size=6, unique_by=lambda r: r["ticket_no"]), st.sampled_from(["xlsx", "csv", "jsonl", "json"]))
    def check(records: list[dict[str, Any]], kind: str) -> None:
        document, _ = report_from_file(_file(records, kind), f"r.{kind}", kind="express", report_id="RT-1")
        report = Report.model_validate(document)
        assert [(r.ticket_no, r.received_at, r.category, r.street, r.content, r.caller.name if r.caller else None, r.caller.phone if r.caller else None)
                for r in report.records] == [
            (r["ticket_no"], r["received_at"].replace(tzinfo=SHANGHAI), r["category"], r["street"], r["content"], r["caller_name"], r["caller_phone"])
            for r in records]
        outcomes[kind] += 1

    check()
    assert sum(outcomes.values()) >= 50 and len(outcomes) == 4, outcomes


def _mutated_workbook(data: bytes, position: int, value: int) -> bytes:
    """A real .xlsx with one byte of one of its XML parts changed: a malformed spreadsheet that still unzips."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        names = source.namelist()
        victim = names[position % len(names)]
        for name in names:
            body = bytearray(source.read(name))
            if name == victim and body:
                body[position % len(body)] = value
            target.writestr(name, bytes(body))
    return out.getvalue()


TEMPLATE = table1_template()


def test_malformed_table1_forms_are_refused_with_a_reason() -> None:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=255))
    def check(position: int, value: int) -> None:
        try:
            read_table1(_mutated_workbook(TEMPLATE, position, value))
        except GatewayError as exc:
            assert exc.detail  # says what is wrong
            outcomes["refused"] += 1
        else:
            outcomes["read"] += 1  # a byte that changed nothing that matters

    check()
    assert sum(outcomes.values()) >= 135 and outcomes["refused"] >= 10, outcomes


def test_malformed_report_spreadsheets_are_refused_with_a_reason_or_read() -> None:
    from tests.helpers.files import rows, xlsx

    outcomes: Counter[str] = Counter()
    workbook = xlsx(rows(3))

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=255))
    def check(position: int, value: int) -> None:
        try:
            result = report_from_file(_mutated_workbook(workbook, position, value), "r.xlsx", kind="express", report_id="FUZZ-3")
        except GatewayError as exc:
            _assert_refused_with_a_reason(exc)
            outcomes["refused"] += 1
        else:
            _assert_parsed(result, "r.xlsx", "FUZZ-3")
            outcomes["read"] += 1

    check()
    assert sum(outcomes.values()) >= 135 and outcomes["refused"] >= 10, outcomes
