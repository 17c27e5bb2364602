"""Screening (研究、筛选): what may not go to consultation (seed 002, 五(四)).

An excluded work order keeps its reason code and is never routed.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

REASONS = {
    "unlawful": "违反法律法规的事项",
    "secret": "依法应当保密的事项",
    "litigation": "已进入诉讼、行政复议或仲裁程序的事项",
    "petition_assigned": "已交办的信访事项",
    "real_name_report": "实名举报、控告事项",
    "discipline_inspection": "纪检监察机关正在调查的事项",
    "answered_personal": "已明确答复的个人诉求",
    "unsuitable": "其他不宜协商的事项",
}

# Flags the command center may set on a record, and what they mean here.
FLAG_REASONS = {
    "unlawful": "unlawful",
    "unlawful_demand": "unlawful",
    "secret": "secret",
    "classified": "secret",
    "litigation": "litigation",
    "arbitration": "litigation",
    "administrative_reconsideration": "litigation",
    "petition_assigned": "petition_assigned",
    "petition": "petition_assigned",
    "real_name_report": "real_name_report",
    "discipline_inspection": "discipline_inspection",
    "answered_personal": "answered_personal",
    "unsuitable": "unsuitable",
}

# Checked in this order: the first that matches gives the reason.
TEXT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("litigation", re.compile(r"已经?(?:向法院)?(?:起诉|立案|提起诉讼)|法院已|诉讼中|正在仲裁|申请了?(?:劳动)?仲裁|行政复议")),
    ("real_name_report", re.compile(r"实名举报")),
    ("discipline_inspection", re.compile(r"纪委|监委|纪检")),
    ("petition_assigned", re.compile(r"信访(?:件|事项)?已(?:交办|受理)")),
]

DISCIPLINE_CATEGORY = "纪检监察"


class Screening:
    """Flags first, then the discipline-inspection category, then text patterns (the defaults plus configured ones)."""

    def __init__(self, extra_patterns: Sequence[tuple[str, str]] = ()) -> None:
        unknown = [reason for reason, _ in extra_patterns if reason not in REASONS]
        if unknown:
            raise ValueError(f"unknown exclusion reason(s) {unknown}; known: {', '.join(REASONS)}")
        self.patterns = [*TEXT_PATTERNS, *((reason, re.compile(pattern)) for reason, pattern in extra_patterns)]

    def screen(self, flags: Sequence[str], category: Sequence[str], content: str) -> str | None:
        """The exclusion reason code for a work order, or None when it may go to consultation."""
        for flag in flags:
            reason = FLAG_REASONS.get(flag.strip().lower())
            if reason:
                return reason
        if category and category[0] == DISCIPLINE_CATEGORY:
            return "discipline_inspection"
        for reason, pattern in self.patterns:
            if pattern.search(content):
                return reason
        return None

