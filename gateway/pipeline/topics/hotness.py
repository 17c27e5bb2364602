"""How hot a topic is, and which kind of clue it makes (docs/decisions.md, "Topics, hotness and clue types").

    hotness = 10 · (ln(1+N) + ½·ln(1+C) + ½·ln(1+L))
                 · (½ + ½·P) · (¾ + ¼·T) · (1 + ¼·G)

N work orders, C distinct citizens (callers by their keyed phone; one without
a phone counts as one), L likes and repeat counts the source gave, P the share
of the work orders at its most named place (an estate, a road … or else the
street), T the share within its busiest seven days, G the growth against the
previous report of the same kind: log2((N+1)/(previous+1)) clamped to 0..2
(a new topic counts as G = 1). Logarithms, so that a thousand work orders
about a city-wide nuisance do not bury thirty about one estate; concentration
and growth multiply, because a matter felt strongly at one place and rising
is what the office looks for (seed 001: 诉求集中、反映强烈).
"""
from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta


def hotness(*, work_orders: int, citizens: int, support: int, place_share: float, time_share: float,
            previous: int | None) -> float:
    growth = 1.0 if previous is None else min(2.0, max(0.0, math.log2((work_orders + 1) / (previous + 1))))
    volume = math.log1p(work_orders) + 0.5 * math.log1p(citizens) + 0.5 * math.log1p(support)
    return round(10 * volume * (0.5 + 0.5 * place_share) * (0.75 + 0.25 * time_share) * (1 + 0.25 * growth), 1)


def busiest_week_share(times: list[datetime]) -> float:
    """Share of the times that fall in the busiest seven days (a sliding window)."""
    if not times:
        return 0.0
    ordered = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] > timedelta(days=7):
            start += 1
        best = max(best, end - start + 1)
    return best / len(ordered)


def top_share(counts: Counter[str], total: int) -> tuple[str | None, float]:
    if not counts or not total:
        return None, 0.0
    name, n = counts.most_common(1)[0]
    return name, n / total
