"""From routed work orders to clues (线索) and from clues to packets.

A clue is one group of work orders in one report: same committee and the same
first two category levels. Its type follows from how many work orders stand
behind it (thresholds in the routing configuration; docs/decisions.md).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.routing import CLUE_TYPES, RoutingConfig

UNCATEGORIZED = "未分类"


@dataclass(frozen=True)
class RoutedOrder:
    """What clue building needs of a work order (already masked)."""

    work_order_pk: int
    ticket_no: str
    category: tuple[str, ...]
    street: str | None
    community: str | None
    content_masked: str
    caller_key: str | None
    issue_pk: int | None = None


@dataclass
class ClueDraft:
    committee_id: str
    triage: bool
    category: tuple[str, ...]
    orders: list[RoutedOrder] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.orders)

    def citizens(self) -> int:
        keys = {o.caller_key for o in self.orders if o.caller_key}
        return len(keys) + sum(1 for o in self.orders if not o.caller_key)

    def issues(self) -> int:
        """Distinct problems behind the clue: near-duplicate work orders count once."""
        keyed = {o.issue_pk for o in self.orders if o.issue_pk is not None}
        return len(keyed) + sum(1 for o in self.orders if o.issue_pk is None)

    def clue_type(self, routing: RoutingConfig, *, urgent: bool) -> str:
        if urgent:
            return "public_opinion"
        if self.count >= routing.clue_types.consultation_topic_min:
            return "consultation_topic"
        if self.count >= routing.clue_types.proposal_min:
            return "proposal"
        return "public_opinion"

    def places(self) -> list[dict[str, object]]:
        counts = Counter(o.street or "地点不详" for o in self.orders)
        return [{"street": street, "count": n} for street, n in counts.most_common()]

    def label(self) -> str:
        deepest = Counter(o.category[-1] for o in self.orders if o.category)
        leaf = deepest.most_common(1)[0][0] if deepest else UNCATEGORIZED
        head = "·".join(self.category) if self.category else UNCATEGORIZED
        return head if leaf in self.category else f"{head}·{leaf}"

    def title(self) -> str:
        places = [p["street"] for p in self.places() if p["street"] != "地点不详"]
        if not places:
            where = ""
        elif len(places) == 1:
            where = f"{places[0]}"
        else:
            where = f"{places[0]}等{len(places)}个街镇"
        prefix = "【待分办】" if self.triage else ""
        return f"{prefix}{self.label()}：{where}{self.count}件诉求" if where else f"{prefix}{self.label()}：{self.count}件诉求"

    def samples(self, limit: int = 3, width: int = 160) -> list[str]:
        seen: list[str] = []
        for order in self.orders:
            text = order.content_masked if len(order.content_masked) <= width else order.content_masked[: width - 1] + "…"
            if text not in seen:
                seen.append(text)
            if len(seen) == limit:
                break
        return seen

    def workstations(self, routing: RoutingConfig) -> list[str]:
        stations = routing.committee(self.committee_id).workstations
        streets = {o.street for o in self.orders if o.street}
        near = [w for w in stations if any(s in w for s in streets)]
        return near or list(stations)


def group_into_clues(orders: Sequence[RoutedOrder], routing: RoutingConfig) -> list[ClueDraft]:
    """Route each order (first matching rule) and group them; unroutable ones go to triage."""
    drafts: dict[tuple[str, tuple[str, ...]], ClueDraft] = {}
    for order in orders:
        committee = routing.route(order.category) if order.category else None
        triage = committee is None
        key_category = order.category[:2] if not triage else order.category[:1]
        key = (committee or routing.triage, key_category)
        draft = drafts.get(key)
        if draft is None:
            draft = drafts[key] = ClueDraft(committee_id=key[0], triage=triage, category=key_category)
        draft.orders.append(order)
    return sorted(drafts.values(), key=lambda d: (d.committee_id, -d.count, d.category))


def trend(current: int, previous: int | None) -> str:
    if previous is None:
        return "本期新出现"
    if current > previous:
        return f"较上期增加{current - previous}件（上期{previous}件）"
    if current < previous:
        return f"较上期减少{previous - current}件（上期{previous}件）"
    return f"与上期持平（{previous}件）"


def type_name(clue_type: str) -> str:
    return CLUE_TYPES[clue_type]
