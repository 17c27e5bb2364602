"""Screening: a text that says the matter is in court, arbitration or reconsideration is excluded without any flag."""
from __future__ import annotations

import pytest

from gateway.pipeline.screening import Screening

SCREENING = Screening()


@pytest.mark.parametrize("content", [
    "和开发商的纠纷已向法院起诉。",
    "房屋漏水的事我已经起诉了，想问问进展。",
    "已经向法院起诉物业公司，请政府关注。",
    "我们已向法院提起诉讼，至今没有开庭。",
    "拖欠工资的事已申请仲裁。",
    "公司不给补偿，我申请了劳动仲裁。",
    "对拆迁补偿决定不服，已向区政府申请行政复议。",
    "案件诉讼中，希望尽快判决。",
])
def test_text_that_says_a_lawsuit_was_filed_is_excluded_without_a_flag(content: str) -> None:
    assert SCREENING.screen([], ["城乡建设", "住房"], content) == "litigation"
    assert SCREENING.screen([], [], content) == "litigation"  # whatever the category


@pytest.mark.parametrize("content", [
    "小区路灯不亮，晚上很黑。",
    "如果再不解决，我准备起诉。",  # not yet in court: it may go to consultation
    "邻居说可以去法院，我不想打官司。",
])
def test_text_that_names_no_proceeding_is_not_excluded(content: str) -> None:
    assert SCREENING.screen([], ["城乡建设"], content) is None


def test_a_flag_still_excludes_a_text_that_says_nothing() -> None:
    assert SCREENING.screen(["arbitration"], ["城乡建设"], "小区路灯不亮") == "litigation"
    assert SCREENING.screen([], ["纪检监察"], "小区路灯不亮") == "discipline_inspection"
