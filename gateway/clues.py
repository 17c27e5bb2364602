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
    committee_id: str | None = None  # None: no rule matched, triage


TICKETS_KEPT = 1000  # ticket numbers a clue lists; the rest are counted (and found through the API)


@dataclass
class ClueDraft:
    """A topic, accumulated one work order at a time (so a report of any size streams through)."""

    committee_id: str
    triage: bool
    category: tuple[str, ...]
    count: int = 0
    _streets: Counter[str] = field(default_factory=Counter)
    _unplaced: int = 0
    _callers: set[str] = field(default_factory=set)
    _anonymous: int = 0
    _issues: set[int] = field(default_factory=set)
    _unissued: int = 0
    _leaves: Counter[str] = field(default_factory=Counter)
    _samples: list[str] = field(default_factory=list)
    ticket_nos: list[str] = field(default_factory=list)
    work_order_pks: list[int] = field(default_factory=list)

    def add(self, order: RoutedOrder, *, sample_width: int = 160) -> None:
        self.count += 1
        if order.street:
            self._streets[order.street] += 1
        else:
            self._unplaced += 1
        if order.caller_key:
            self._callers.add(order.caller_key)
        else:
            self._anonymous += 1
        if order.issue_pk is not None:
            self._issues.add(order.issue_pk)
        else:
            self._unissued += 1
        if order.category:
            self._leaves[order.category[-1]] += 1
        if len(self._samples) < 3:
            text = order.content_masked if len(order.content_masked) <= sample_width else order.content_masked[: sample_width - 1] + "…"
            if text not in self._samples:
                self._samples.append(text)
        if len(self.ticket_nos) < TICKETS_KEPT:
            self.ticket_nos.append(order.ticket_no)
        self.work_order_pks.append(order.work_order_pk)

    def citizens(self) -> int:
        return len(self._callers) + self._anonymous

    def issues(self) -> int:
        """Distinct problems behind the clue: near-duplicate work orders count once."""
        return len(self._issues) + self._unissued

    def streets(self) -> int:
        return len(self._streets)

    def concentration(self) -> float:
        """Share of the work orders in the street or town that has the most."""
        return self._streets.most_common(1)[0][1] / self.count if self._streets else 0.0

    def score(self) -> float:
        """How concentrated and strongly felt: more work orders, more of them in one place, more repeats of one matter."""
        repeats = 1 - self.issues() / self.count if self.count else 0.0
        return round(self.count * (0.5 + self.concentration()) * (1 + repeats), 1)

    def classify(self, routing: RoutingConfig, *, urgent: bool, previous: int | None) -> tuple[str, str] | None:
        """(clue type, why, in the office's words), or None when the topic is below the thresholds."""
        t = routing.clue_types
        if urgent:
            return "public_opinion", "突发性重点问题，及时报送"
        if self.count < t.min_work_orders:
            return None
        top = self.places()[0]
        if self.count >= t.consultation_topic_min and self.concentration() >= t.concentration:
            return "consultation_topic", f"诉求集中：{top['street']}{top['count']}件，占{self.concentration():.0%}，属群众反映强烈的局部公共问题"
        if self.streets() >= t.systemic_min_streets and self.count >= t.proposal_min:
            return "proposal", f"分布在{self.streets()}个街镇，共{self.count}件，属面上共性问题，宜从政策层面研究"
        if previous is None:
            return "public_opinion", "本期新出现的问题，需关注苗头"
        if self.count >= previous * t.rising_ratio:
            return "public_opinion", f"较上期明显上升（{previous}件→{self.count}件），呈蔓延趋势"
        return "public_opinion", "持续反映的问题"

    def places(self) -> list[dict[str, object]]:
        counts = self._streets + Counter({"地点不详": self._unplaced})
        return [{"street": street, "count": n} for street, n in counts.most_common()]

    def label(self) -> str:
        leaf = self._leaves.most_common(1)[0][0] if self._leaves else UNCATEGORIZED
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

    def samples(self) -> list[str]:
        return list(self._samples)

    def workstations(self, routing: RoutingConfig) -> list[str]:
        return routing.committee(self.committee_id).stations_for(set(self._streets), self.category[0] if self.category else None)


class TopicBuilder:
    """Topics (committee, first two category levels) built up from routed work orders, a slice at a time."""

    def __init__(self, routing: RoutingConfig) -> None:
        self.routing = routing
        self.drafts: dict[tuple[str, tuple[str, ...]], ClueDraft] = {}

    def add(self, order: RoutedOrder) -> None:
        committee = order.committee_id
        triage = committee is None
        key_category = order.category[:2] if not triage else order.category[:1]
        key = (committee or self.routing.triage, key_category)
        draft = self.drafts.get(key)
        if draft is None:
            draft = self.drafts[key] = ClueDraft(committee_id=key[0], triage=triage, category=key_category)
        draft.add(order)

    def topics(self) -> list[ClueDraft]:
        return sorted(self.drafts.values(), key=lambda d: (d.committee_id, -d.count, d.category))


def group_into_clues(orders: Sequence[RoutedOrder], routing: RoutingConfig) -> list[ClueDraft]:
    """Group routed orders into topics; unroutable ones (committee None) go to triage."""
    builder = TopicBuilder(routing)
    for order in orders:
        builder.add(order)
    return builder.topics()


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
