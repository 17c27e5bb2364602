"""The suite-wide personal-data scanner finds what it must and leaves masked text alone."""
from __future__ import annotations

from tests.helpers.scanner import findings_in


def test_the_scanner_finds_unmasked_phones_ids_and_names() -> None:
    found = findings_in("王建国来电，电话13812345678，身份证11010519491231002X。", {"王建国"})
    assert sorted(found) == ["ID card 11010519491231002X", "caller name 王建国", "mobile 13812345678"]


def test_masked_text_ticket_numbers_and_float_digits_are_not_findings() -> None:
    text = "王某某，电话138****5678，身份证110105********002X，工单2611160000001，gateway_x_created 1.7954310005335427e+09"
    assert findings_in(text, {"王建国"}) == []
    assert findings_in("110105194912310021", set()) == []  # a wrong checksum is not an ID number
