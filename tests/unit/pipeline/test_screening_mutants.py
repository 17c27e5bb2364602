"""Screening's configuration check, exactly (mutmut's survivors of gateway/pipeline/screening.py)."""
from __future__ import annotations

import pytest

from gateway.pipeline.screening import Screening


def test_an_unknown_reason_in_the_configuration_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        Screening([("secret", "涉密"), ("gossip", "听说"), ("rumour", "传言")])
    assert str(caught.value) == (
        "unknown exclusion reason(s) ['gossip', 'rumour']; known: unlawful, secret, litigation, petition_assigned, "
        "real_name_report, discipline_inspection, answered_personal, unsuitable")


def test_a_known_reason_is_accepted_and_its_pattern_used_after_the_defaults() -> None:
    screening = Screening([("secret", "内部文件"), ("unsuitable", "纪委")])
    assert screening.screen([], ["城乡建设"], "这份内部文件说明了情况") == "secret"
    assert screening.screen([], ["城乡建设"], "纪委的内部文件") == "discipline_inspection"  # the default pattern comes first
    assert screening.screen(["  Classified "], ["城乡建设"], "路灯不亮") == "secret"  # flags trimmed and lowercased
