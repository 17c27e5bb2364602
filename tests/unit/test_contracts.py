from datetime import timedelta

import pytest
from pydantic import ValidationError

from contracts import Report, WorkOrderRecord
from gateway.errors import ValidationFailed
from gateway.intake.receive import validate_report
from tests.helpers.reports import record, weekly


def test_category_string_with_slash_or_angle_is_split_into_levels() -> None:
    assert WorkOrderRecord.model_validate(record("1", category="城乡建设/市政设施/道路积水")).category == ["城乡建设", "市政设施", "道路积水"]
    assert WorkOrderRecord.model_validate(record("1", category="城乡建设 > 市政设施")).category == ["城乡建设", "市政设施"]
    assert WorkOrderRecord.model_validate(record("1", category=["城乡建设", "市政设施"])).category == ["城乡建设", "市政设施"]


def test_time_without_zone_is_beijing_time() -> None:
    parsed = WorkOrderRecord.model_validate(record("1"))
    assert parsed.received_at.utcoffset() == timedelta(hours=8)
    assert parsed.received_at.hour == 9


def test_optional_fields_may_be_absent() -> None:
    minimal = {"ticket_no": "A1", "received_at": "2026-11-16T09:12:00+08:00", "content": "路灯不亮"}
    parsed = WorkOrderRecord.model_validate(minimal)
    assert parsed.caller is None and parsed.flags == [] and parsed.category == []


@pytest.mark.parametrize("kind", ["weekly", "monthly"])
def test_period_is_required_for_weekly_and_monthly(kind: str) -> None:
    body = weekly()
    body["kind"] = kind
    del body["period"]
    with pytest.raises(ValidationError, match="period is required"):
        Report.model_validate(body)


def test_urgent_report_may_be_a_narrative_only() -> None:
    parsed = Report.model_validate({"report_id": "U1", "kind": "urgent", "summary": "暴雨致多个小区进水", "records": []})
    assert parsed.records == []


def test_errors_name_the_field_and_the_record_index() -> None:
    body = weekly()
    body["records"][2]["received_at"] = "yesterday"
    del body["records"][4]["content"]
    with pytest.raises(ValidationFailed) as caught:
        validate_report(body, partial=False)
    locs = [e["loc"] for e in caught.value.errors or []]
    assert ["records", 2, "received_at"] in locs
    assert ["records", 4, "content"] in locs
    assert "send ?partial=true" in caught.value.detail


def test_partial_keeps_the_good_records_and_lists_the_bad() -> None:
    body = weekly()
    body["records"][1]["kind_of_bad"] = True  # unknown fields are ignored, not errors
    body["records"][3]["ticket_no"] = ""
    envelope, good, rejected = validate_report(body, partial=True)
    assert len(good) == len(body["records"]) - 1
    assert [r.index for r in rejected] == [3]
    assert rejected[0].errors[0].loc == ["records", 3, "ticket_no"]


def test_unknown_kind_is_named() -> None:
    body = weekly()
    body["kind"] = "daily"
    with pytest.raises(ValidationFailed) as caught:
        validate_report(body, partial=False)
    assert caught.value.errors and caught.value.errors[0]["loc"] == ["kind"]
