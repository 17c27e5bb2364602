"""Hypothesis against the contracts and the importers: whatever comes in, the answer is a clear refusal or a document, never a crash."""
from __future__ import annotations

import io
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts import Report
from contracts.consultations import Consultation, SupervisionUpdate
from gateway.errors import GatewayError
from gateway.importer import report_from_file
from gateway.table_xlsx import read_table1, table1_template

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
FIELDS = st.fixed_dictionaries({}, optional={
    "report_id": st.text(max_size=20), "kind": st.sampled_from(["weekly", "monthly", "express", "special", "urgent", "x"]),
    "period": JSON, "issued_at": st.text(max_size=30), "records": st.lists(JSON, max_size=4), "title": JSON,
})
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
RUNS: dict[str, int] = {}


def _count(name: str) -> None:
    RUNS[name] = RUNS.get(name, 0) + 1


@SETTINGS
@given(JSON | FIELDS)
def test_any_json_is_a_report_or_a_validation_error(data: object) -> None:
    _count("report contract")
    try:
        Report.model_validate(data)
    except ValidationError:
        pass


@SETTINGS
@given(JSON | st.fixed_dictionaries({}, optional={"workstation": JSON, "period": JSON, "topic": JSON, "items": st.lists(JSON, max_size=3),
                                                    "planned": JSON, "activity_date": JSON}))
def test_any_json_is_a_table1_or_a_validation_error(data: object) -> None:
    _count("Table 1 contract")
    for model in (Consultation, SupervisionUpdate):
        try:
            model.model_validate(data)
        except ValidationError:
            pass


@SETTINGS
@given(st.binary(max_size=2000), st.sampled_from(["r.csv", "r.jsonl", "r.json", "r.xlsx"]))
def test_any_bytes_under_any_report_file_name_are_a_report_or_a_gateway_error(content: bytes, filename: str) -> None:
    _count("report importer")
    try:
        report_from_file(content, filename, kind="express", report_id="FUZZ-1")
    except GatewayError:
        pass


@SETTINGS
@given(st.text(max_size=400), st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
def test_any_csv_text_is_a_report_or_a_gateway_error(text: str, encoding: str) -> None:
    _count("csv importer")
    try:
        content = ("工单编号,受理时间,诉求内容\n" + text).encode(encoding, errors="replace")
        report_from_file(content, "r.csv", kind="express", report_id="FUZZ-2")
    except GatewayError:
        pass


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


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=255))
def test_malformed_table1_forms_are_refused_with_a_reason(position: int, value: int) -> None:
    _count("Table 1 form (malformed xlsx)")
    try:
        read_table1(_mutated_workbook(TEMPLATE, position, value))
    except GatewayError as exc:
        assert exc.detail  # says what is wrong


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=255))
def test_malformed_report_spreadsheets_are_refused_with_a_reason(position: int, value: int) -> None:
    from tests.helpers.files import rows, xlsx

    _count("report xlsx (malformed)")
    try:
        report_from_file(_mutated_workbook(xlsx(rows(3)), position, value), "r.xlsx", kind="express", report_id="FUZZ-3")
    except GatewayError as exc:
        assert exc.detail


def test_zz_fuzzing_counts() -> None:
    print("hypothesis cases run:", RUNS)
    assert sum(RUNS.values()) >= 1000
