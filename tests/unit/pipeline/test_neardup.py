"""Near-duplicates → issues (gateway.pipeline.neardup.assign_issues) on a real database: the same matter in the same street
within 30 days is one issue; the same text in another street, or 31 days apart, is another."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gateway.db.engine import make_engine
from gateway.db.models import Base, WorkOrder
from gateway.pipeline.neardup import MinHasher, OrderText, assign_issues

FLOOD = "云景里小区门口道路积水严重，一下雨就没过脚踝，已经好几年了，希望彻底解决排水问题。"
TEXTS = [FLOOD, "再次反映：" + FLOOD, "邻居们都很着急，" + FLOOD, FLOOD + "电话138****5678"]
DAY0 = datetime(2026, 11, 16, 1, 0, tzinfo=timezone.utc)
HASHER = MinHasher()


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'issues.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _orders(session: Session, *specs: tuple[str, str | None, datetime]) -> list[OrderText]:
    rows = [WorkOrder(ticket_no=f"T{session.query(WorkOrder).count() + i}", received_at=at, content_masked=text, street=street, category=["城乡建设"])
            for i, (text, street, at) in enumerate(specs)]
    session.add_all(rows)
    session.flush()
    return [OrderText(row.id, row.content_masked, row.street, None, ["城乡建设"], row.received_at, None) for row in rows]


def _assign(session: Session, *specs: tuple[str, str | None, datetime]) -> list[int]:
    orders = _orders(session, *specs)
    issues = assign_issues(session, orders, HASHER)
    session.flush()
    return [issues[o.id] for o in orders]


def test_near_duplicates_in_the_same_street_within_30_days_are_joined(session: Session) -> None:
    first = _assign(session, (TEXTS[0], "梨园镇", DAY0), (TEXTS[1], "梨园镇", DAY0 + timedelta(days=3)))
    assert first[0] == first[1]
    # a later batch joins the persisted issue, up to 30 days after the last one seen
    later = _assign(session, (TEXTS[2], "梨园镇", DAY0 + timedelta(days=33)), (TEXTS[3], "梨园镇", DAY0 - timedelta(days=30)))
    assert later == [first[0], first[0]]


def test_near_duplicates_in_different_streets_are_not_joined(session: Session) -> None:
    together = _assign(session, (TEXTS[0], "梨园镇", DAY0), (TEXTS[1], "永顺镇", DAY0), (TEXTS[2], "梨园镇", DAY0))
    assert together[0] == together[2] != together[1]
    # nor across batches
    later = _assign(session, (TEXTS[3], "宋庄镇", DAY0 + timedelta(days=1)), (TEXTS[3], "永顺镇", DAY0 + timedelta(days=1)))
    assert later[0] not in together and later[1] == together[1]


def test_near_duplicates_31_days_apart_are_not_joined(session: Session) -> None:
    first = _assign(session, (TEXTS[0], "梨园镇", DAY0))
    after = _assign(session, (TEXTS[1], "梨园镇", DAY0 + timedelta(days=31)))
    before = _assign(session, (TEXTS[2], "梨园镇", DAY0 - timedelta(days=31)))
    assert len({first[0], after[0], before[0]}) == 3
    # within one batch too
    apart = _assign(session, (TEXTS[3], "台湖镇", DAY0), (TEXTS[0], "台湖镇", DAY0 + timedelta(days=31, hours=1)))
    assert apart[0] != apart[1]


def test_a_work_order_without_a_street_joins_by_text_and_time(session: Session) -> None:
    ids = _assign(session, (TEXTS[0], "梨园镇", DAY0), (TEXTS[1], None, DAY0 + timedelta(days=1)))
    assert ids[0] == ids[1]


def test_different_matters_in_the_same_street_are_not_joined(session: Session) -> None:
    ids = _assign(session, (TEXTS[0], "梨园镇", DAY0), ("小区东门的路灯坏了一个月了，晚上很黑，请尽快修好。", "梨园镇", DAY0))
    assert ids[0] != ids[1]
