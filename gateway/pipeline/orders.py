"""A work order as routing sees it: masked text, category, place, its issue and support; what topics and clues are made of."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class RoutedOrder:
    """What clue building needs of a work order (already masked).

    Not frozen, with slots: routing holds one per work order of a report (a million in a big month), and topic
    discovery sets `places` and `district` on each rather than copying it (the copies were 240 MB at 1M).
    """

    work_order_pk: int
    ticket_no: str
    category: tuple[str, ...]
    street: str | None
    community: str | None
    content_masked: str  # "" but for the order that represents its issue (represents_its_issue): only that one's is read
    caller_key: str | None
    issue_pk: int | None = None
    committee_id: str | None = None  # None: no rule matched, triage
    received_at: datetime | None = None
    support: int = 0  # likes and repeat counts the source gave
    places: tuple[str, ...] = ()  # estates, villages, roads, schools, companies the text names
    district: str | None = None
    inquiry: bool = False  # a 咨询: counted in its topic, but a topic of only 咨询 is no clue


def represents_its_issue(issue_pk: int | None, seen: set[int]) -> bool:
    """Whether a work order stands for its near-duplicate issue: the first of the issue in routing's order (`seen` holds
    the issues met so far, and gains this one), or any order without an issue.

    One rule for routing, which keeps the text of only these orders, and topic discovery, which analyses only these:
    were they to differ, a representative would be analysed with an empty text.
    """
    if issue_pk is None:
        return True
    if issue_pk in seen:
        return False
    seen.add(issue_pk)
    return True
