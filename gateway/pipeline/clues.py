"""From topics to clues (线索): what the office receives.

A clue is a topic (a matter at a place, gateway/topics) of a report that is
big enough: never a category bucket. A topic is not cut apart by category or
committee: it goes to the committee that most of its work orders belong to,
and the packets of the other committees concerned name it as shared. Its type
and hotness follow from its features (gateway/pipeline/topics/hotness.py,
docs/decisions.md).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gateway.pipeline.orders import RoutedOrder
from gateway.pipeline.routing_rules import CLUE_TYPES, RoutingConfig
from gateway.pipeline.topics.hotness import busiest_week_share, hotness, top_share
from gateway.pipeline.topics.text import title_words

UNCATEGORIZED = "未分类"
UNPLACED = "地点不详"


TICKETS_KEPT = 1000  # ticket numbers a clue lists; the rest are counted (and found through the API)
SAMPLES_KEPT = 3


@dataclass
class ClueDraft:
    """One topic of a report, accumulated one work order at a time."""

    committee_id: str = ""
    triage: bool = False
    category: tuple[str, ...] = ()
    keywords: list[str] = field(default_factory=list)
    topic_pk: int | None = None
    count: int = 0
    support: int = 0
    inquiries: int = 0
    shared_with: list[str] = field(default_factory=list)
    _streets: Counter[str] = field(default_factory=Counter)
    _named: Counter[str] = field(default_factory=Counter)
    _districts: Counter[str] = field(default_factory=Counter)
    _committees: Counter[str | None] = field(default_factory=Counter)
    _categories: Counter[tuple[str, ...]] = field(default_factory=Counter)
    _unplaced: int = 0
    _callers: set[str] = field(default_factory=set)
    _anonymous: int = 0
    _issues: set[int] = field(default_factory=set)
    _unissued: int = 0
    _leaves: Counter[str] = field(default_factory=Counter)
    _samples: list[str] = field(default_factory=list)
    _times: list[datetime] = field(default_factory=list)
    ticket_nos: list[str] = field(default_factory=list)
    work_order_pks: list[int] = field(default_factory=list)

    CONCENTRATED = 0.5  # below this share at its main place, a title names the spread, not one place

    def add(self, order: RoutedOrder, *, sample_width: int = 160) -> None:
        new_issue = order.issue_pk is None or order.issue_pk not in self._issues
        self.count += 1
        self.inquiries += order.inquiry
        self.support += order.support
        self._committees[order.committee_id] += 1
        if order.street:
            self._streets[order.street] += 1
        else:
            self._unplaced += 1
        self._named.update(order.places[:3])
        if order.district:
            self._districts[order.district] += 1
        if order.caller_key:
            self._callers.add(order.caller_key)
        else:
            self._anonymous += 1
        if order.issue_pk is not None:
            self._issues.add(order.issue_pk)
        else:
            self._unissued += 1
        if order.category:
            self._categories[order.category[:2]] += 1
            self._leaves[order.category[-1]] += 1
        if order.received_at is not None:
            self._times.append(order.received_at)
        # One sample per near-duplicate issue: three citizens' own words, not one text three times.
        if len(self._samples) < SAMPLES_KEPT and new_issue:
            text = order.content_masked if len(order.content_masked) <= sample_width else order.content_masked[: sample_width - 1] + "…"
            if text not in self._samples:
                self._samples.append(text)
        if len(self.ticket_nos) < TICKETS_KEPT:
            self.ticket_nos.append(order.ticket_no)
        self.work_order_pks.append(order.work_order_pk)

    def settle(self, routing: RoutingConfig) -> None:
        """The committee most of the topic belongs to (others concerned: shared), and its main category."""
        routed = Counter({c: n for c, n in self._committees.items() if c is not None})
        if routed:
            self.committee_id, self.triage = routed.most_common(1)[0][0], False
            self.shared_with = sorted(c for c, n in routed.items() if c != self.committee_id and n >= max(2, 0.2 * self.count))
        else:
            self.committee_id, self.triage = routing.triage, True
        self.category = self._categories.most_common(1)[0][0] if self._categories else ()

    def citizens(self) -> int:
        return len(self._callers) + self._anonymous

    def issues(self) -> int:
        """Distinct problems behind the clue: near-duplicate work orders count once."""
        return len(self._issues) + self._unissued

    def streets(self) -> int:
        return len(self._streets)

    def concentration(self) -> float:
        """Share of the work orders in the street or town that has the most."""
        return top_share(self._streets, self.count)[1]

    def place_share(self) -> float:
        """Share of the work orders at its most named place (an estate, a road …), or else in its top street."""
        return max(top_share(self._named, self.count)[1], self.concentration())

    def span(self) -> tuple[datetime | None, datetime | None]:
        return (min(self._times), max(self._times)) if self._times else (None, None)

    def score(self, previous: int | None = None) -> float:
        """Hotness (gateway/pipeline/topics/hotness.py)."""
        return hotness(work_orders=self.count, citizens=self.citizens(), support=self.support, place_share=self.place_share(),
                       time_share=busiest_week_share(self._times), previous=previous)

    def classify(self, routing: RoutingConfig, *, urgent: bool, previous: int | None) -> tuple[str, str] | None:
        """(clue type, why, in the office's words), or None when the topic is below the thresholds."""
        t = routing.clue_types
        if self.inquiries == self.count:
            return None  # questions asking for information (咨询) only: they tell of no problem to consult on
        if urgent:
            return "public_opinion", "突发性重点问题，及时报送"
        if self.count < t.min_work_orders:
            return None
        where, share = self.main_place()
        if self.count >= t.consultation_topic_min and share >= t.concentration:
            return "consultation_topic", f"诉求集中：{where}{round(share * self.count)}件，占{share:.0%}，属群众反映强烈的局部公共问题"
        spread, unit = (self.streets(), "个街镇") if self.streets() >= t.systemic_min_streets else (len(self._named), "处地点")
        if spread >= t.systemic_min_streets and self.count >= t.proposal_min and share < t.concentration:
            return "proposal", f"分布在{spread}{unit}，共{self.count}件，属面上共性问题，宜从政策层面研究"
        if previous is None:
            return "public_opinion", "本期新出现的问题，需关注苗头"
        if self.count >= previous * t.rising_ratio:
            return "public_opinion", f"较上期明显上升（{previous}件→{self.count}件），呈蔓延趋势"
        return "public_opinion", "持续反映的问题"

    def main_place(self) -> tuple[str, float]:
        """The place the topic is at, as the office would name it, and the share of work orders there."""
        named, named_share = top_share(self._named, self.count)
        street, street_share = top_share(self._streets, self.count)
        if named and named_share >= street_share * 0.6:
            district = top_share(self._districts, self.count)[0] or street
            prefix = district if district and district not in named and named_share < 1.01 else ""
            return f"{prefix}{named}", named_share
        return (street or ""), street_share

    def places(self) -> list[dict[str, object]]:
        counts = self._streets + Counter({UNPLACED: self._unplaced})
        return [{"street": street, "count": n} for street, n in counts.most_common()]

    def named_places(self) -> list[dict[str, object]]:
        return [{"place": name, "count": n} for name, n in self._named.most_common(10)]

    def label(self) -> str:
        leaf = self._leaves.most_common(1)[0][0] if self._leaves else UNCATEGORIZED
        head = "·".join(self.category) if self.category else UNCATEGORIZED
        return head if leaf in self.category else f"{head}·{leaf}"

    def title(self) -> str:
        """The place and the matter, as the office would write it: “A3区某某小区：搅拌站、噪音、粉尘等问题”."""
        where, share = self.main_place()
        if share < self.CONCENTRATED and self.streets() >= 2:  # spread over several towns: say so, name none alone
            where = f"{top_share(self._streets, self.count)[0]}等{self.streets()}个街镇"
        words = title_words([w for w in self.keywords if w not in where])
        matter = f"{'、'.join(words)}等问题" if len(words) > 1 else f"{words[0]}问题" if words else f"{self.label()}问题"
        # The office triages by subject: an unroutable topic says which category it was filed (or guessed) under.
        prefix = f"【待分办】{self.label()}｜" if self.triage else ""
        return f"{prefix}{where}：{matter}" if where else f"{prefix}{matter}"

    def samples(self) -> list[str]:
        return list(self._samples)

    def workstations(self, routing: RoutingConfig) -> list[str]:
        return routing.committee(self.committee_id).stations_for(set(self._streets), self.category[0] if self.category else None)


def group_into_topics(orders: Sequence[RoutedOrder], labels: Sequence[int], routing: RoutingConfig,
                      keywords: dict[int, list[str]] | None = None) -> dict[int, ClueDraft]:
    """One draft per topic label; each settled on its committee."""
    drafts: dict[int, ClueDraft] = {}
    for order, label in zip(orders, labels):
        drafts.setdefault(int(label), ClueDraft(keywords=list((keywords or {}).get(int(label), [])))).add(order)
    for draft in drafts.values():
        draft.settle(routing)
    return drafts


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
