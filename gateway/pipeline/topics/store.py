"""The persistent topic index: a topic of this week continues last week's.

Each topic keeps its matter words with weights (a centroid), its place keys
and its district; `topic_terms` indexes it by its places and strongest words,
as `issue_bands` indexes issues. A new cluster continues the topic it shares a
term with when the matter is similar (with a shared place: cosine ≥
`with_place`; without: ≥ `without_place`) and nothing says they are at
different places; clusters of one report that continue one topic become one.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from gateway.db.models import Topic, TopicTerm

TERMS_PER_KIND = 5
KEYWORDS_KEPT = 30
PLACES_KEPT = 12
_BATCH = 2000


@dataclass
class ClusterFeatures:
    """What the index needs of one cluster of this report."""

    keywords: dict[str, float]
    places: list[str]
    district: str | None
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class ContinueSettings:
    with_place: float = 0.25
    without_place: float = 0.55
    max_gap: timedelta = timedelta(days=180)


def _terms(places: Sequence[str], keywords: dict[str, float]) -> list[str]:
    strongest = sorted(keywords, key=keywords.__getitem__, reverse=True)[:TERMS_PER_KIND]
    return [f"p:{p}"[:120] for p in places[:TERMS_PER_KIND]] + [f"w:{w}"[:120] for w in strongest]


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(w * b[k] for k, w in a.items() if k in b)
    return dot / (math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values())))


def _merge(old: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    merged = dict(old)
    for word, weight in new.items():
        merged[word] = round(merged.get(word, 0.0) + weight, 4)
    return dict(sorted(merged.items(), key=lambda kv: -kv[1])[:KEYWORDS_KEPT])


def continue_topics(session: Session, clusters: Sequence[ClusterFeatures], settings: ContinueSettings = ContinueSettings()) -> list[int]:
    """The topic (primary key) of each cluster: an existing one it continues, or a new one. Writes the index."""
    connection = session.connection()
    terms = [_terms(c.places, c.keywords) for c in clusters]
    wanted = list({t for ts in terms for t in ts})
    by_term: dict[str, set[int]] = {}
    for i in range(0, len(wanted), _BATCH):
        for term, topic_pk in connection.execute(select(TopicTerm.term, TopicTerm.topic_pk).where(TopicTerm.term.in_(wanted[i:i + _BATCH]))):
            by_term.setdefault(term, set()).add(topic_pk)
    known = list({pk for pks in by_term.values() for pk in pks})
    topics: dict[int, dict] = {}
    for i in range(0, len(known), _BATCH):
        for row in connection.execute(select(Topic.id, Topic.keywords, Topic.places, Topic.district, Topic.last_seen_at, Topic.first_seen_at,
                                             Topic.work_order_count).where(Topic.id.in_(known[i:i + _BATCH]))):
            topics[row.id] = {"keywords": dict(row.keywords or {}), "places": list(row.places or []), "district": row.district,
                              "first": row.first_seen_at, "last": row.last_seen_at, "count": row.work_order_count, "added": 0, "terms": set()}

    chosen: list[int | None] = []
    for cluster, cluster_terms in zip(clusters, terms):
        best, best_score = None, 0.0
        candidates = {pk for t in cluster_terms for pk in by_term.get(t, ())}
        for pk in sorted(candidates):
            topic = topics[pk]
            if cluster.first_seen - topic["last"] > settings.max_gap:
                continue
            if cluster.district and topic["district"] and cluster.district != topic["district"]:
                continue
            shared = set(cluster.places) & set(topic["places"])
            if cluster.places and topic["places"] and not shared:
                continue
            score = _cosine(cluster.keywords, topic["keywords"])
            if score >= (settings.with_place if shared else settings.without_place) and score > best_score:
                best, best_score = pk, score
        chosen.append(best)

    new_positions = [i for i, pk in enumerate(chosen) if pk is None]
    if new_positions:
        rows = [{"topic_id": f"new-{i}", "title": "", "keywords": clusters[i].keywords, "places": clusters[i].places[:PLACES_KEPT],
                 "district": clusters[i].district, "work_order_count": 0, "first_seen_at": clusters[i].first_seen, "last_seen_at": clusters[i].last_seen}
                for i in new_positions]
        ids = connection.execute(insert(Topic.__table__).returning(Topic.__table__.c.id, sort_by_parameter_order=True), rows).scalars().all()
        connection.execute(update(Topic.__table__).where(Topic.__table__.c.id == bindparam("_id")),
                           [{"_id": pk, "topic_id": f"T{pk:07d}"} for pk in ids])
        for i, pk in zip(new_positions, ids):
            chosen[i] = pk
            topics[pk] = {"keywords": {}, "places": [], "district": clusters[i].district, "first": clusters[i].first_seen,
                          "last": clusters[i].first_seen, "count": 0, "added": 0, "terms": set()}

    existing_terms = {(t, pk) for t, pks in by_term.items() for pk in pks}
    new_terms: set[tuple[str, int]] = set()
    for cluster, cluster_terms, pk in zip(clusters, terms, chosen):
        topic = topics[pk]  # type: ignore[index]
        topic["keywords"] = _merge(topic["keywords"], cluster.keywords)
        topic["places"] = list(dict.fromkeys([*topic["places"], *cluster.places]))[:PLACES_KEPT]
        topic["first"], topic["last"] = min(topic["first"], cluster.first_seen), max(topic["last"], cluster.last_seen)
        topic["added"] += cluster.count
        new_terms.update((t, pk) for t in cluster_terms if (t, pk) not in existing_terms)  # type: ignore[misc]
    if new_terms:
        connection.execute(insert(TopicTerm.__table__), [{"term": t, "topic_pk": pk} for t, pk in sorted(new_terms)])
    touched = [(pk, t) for pk, t in topics.items() if t["added"]]
    if touched:
        connection.execute(
            update(Topic.__table__).where(Topic.__table__.c.id == bindparam("_id")).values(
                keywords=bindparam("_keywords"), places=bindparam("_places"), first_seen_at=bindparam("_first"), last_seen_at=bindparam("_last"),
                work_order_count=Topic.__table__.c.work_order_count + bindparam("_added")),
            [{"_id": pk, "_keywords": t["keywords"], "_places": t["places"], "_first": t["first"], "_last": t["last"], "_added": t["added"]}
             for pk, t in touched],
        )
    return [int(pk) for pk in chosen]  # type: ignore[arg-type]
