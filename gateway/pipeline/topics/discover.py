"""Topic discovery for one report: analyse, cluster, continue the persistent topics, mark the work orders."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from gateway.pipeline.orders import RoutedOrder, represents_its_issue
from gateway.db.models import Topic, WorkOrder
from gateway.pipeline.topics.cluster import cluster
from gateway.pipeline.topics.store import ClusterFeatures, continue_topics
from gateway.pipeline.topics.text import Analyser, is_entity

KEYWORDS_SHOWN = 6


@dataclass
class Found:
    orders: list[RoutedOrder]  # the orders given, each with the places and district its text names set
    topic_of: list[int]  # topic primary key per order
    keywords: dict[int, list[str]] = field(default_factory=dict)  # topic -> its matter words, strongest first
    founded: set[int] = field(default_factory=set)  # topics this report created


def discover_topics(session: Session, orders: Sequence[RoutedOrder], *, vocabulary: Sequence[str] = (), write_orders: bool = True) -> Found:
    """Topics of a report's work orders, setting on each order the places and district its text names.

    `write_orders=False`: the caller writes their topic_pk (Found.topic_of) itself.
    """
    if not orders:
        return Found([], [])
    # Near-duplicate issues are the atoms: one text of each is analysed and clustered, its fellows follow it.
    representative: list[int] = []  # position in `orders` of each atom's first work order
    atom_of: list[int] = []  # the atom of each work order
    first_of_issue: dict[int, int] = {}  # issue -> its atom
    met: set[int] = set()
    for position, order in enumerate(orders):
        if not represents_its_issue(order.issue_pk, met):  # the rule routing kept the texts by
            atom_of.append(first_of_issue[order.issue_pk])  # type: ignore[index]
            continue
        if order.issue_pk is not None:
            first_of_issue[order.issue_pk] = len(representative)
        atom_of.append(len(representative))
        representative.append(position)
    texts = [orders[i].content_masked for i in representative]
    analyser = Analyser(vocabulary=vocabulary)
    analyser.learn_from(texts)
    atoms = [analyser.analyse(orders[i].content_masked, known_places=(orders[i].community,) if orders[i].community else (),
                              district=orders[i].district) for i in representative]
    analysed = [atoms[a] for a in atom_of]
    clustering = cluster(atoms)
    labels = clustering.labels[np.asarray(atom_of, dtype=np.int64)]
    weights = clustering.keywords(top=20)
    members: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        members.setdefault(int(label), []).append(position)
    features = []
    for label in range(len(members)):
        positions = members[label]
        places = Counter(p for i in positions for p in analysed[i].places[:3] if not is_entity(p))
        districts = Counter(analysed[i].district for i in positions if analysed[i].district)
        times = [orders[i].received_at for i in positions if orders[i].received_at is not None]
        features.append(ClusterFeatures(
            keywords=weights.get(label, {}), places=[p for p, _ in places.most_common(8)],
            district=districts.most_common(1)[0][0] if districts else None, count=len(positions),
            first_seen=min(times), last_seen=max(times),
        ))
    newest_before = session.scalar(select(func.max(Topic.id))) or 0
    topic_pks = continue_topics(session, features)
    topic_of = [topic_pks[int(label)] for label in labels]
    keywords: dict[int, Counter[str]] = {}
    for label, pk in enumerate(topic_pks):
        keywords.setdefault(pk, Counter()).update(weights.get(label, {}))
    if write_orders:
        session.connection().execute(
            update(WorkOrder.__table__).where(WorkOrder.__table__.c.id == bindparam("_id")).values(topic_pk=bindparam("_topic")),
            [{"_id": o.work_order_pk, "_topic": pk} for o, pk in zip(orders, topic_of)],
        )
    # Proper names found only by their tag join work orders but do not name the place a clue is at.
    named = [tuple(p for p in a.places if not is_entity(p)) for a in atoms]
    for order, atom in zip(orders, atom_of):
        order.places, order.district = named[atom], atoms[atom].district
    return Found(
        orders=list(orders), topic_of=topic_of,
        keywords={pk: [w for w, _ in c.most_common(KEYWORDS_SHOWN)] for pk, c in keywords.items()},
        founded={pk for pk in topic_pks if pk > newest_before},
    )
