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
    content_masked: str  # routing leaves it "" for all but the first work order of an issue: only that one's is read
    caller_key: str | None
    issue_pk: int | None = None
    committee_id: str | None = None  # None: no rule matched, triage
    received_at: datetime | None = None
    support: int = 0  # likes and repeat counts the source gave
    places: tuple[str, ...] = ()  # estates, villages, roads, schools, companies the text names
    district: str | None = None
    inquiry: bool = False  # a 咨询: counted in its topic, but a topic of only 咨询 is no clue
