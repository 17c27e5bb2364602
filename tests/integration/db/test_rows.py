"""Many rows at once (gateway/db/rows.py): COPY on PostgreSQL, an executemany on SQLite; the same rows come back either way."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from gateway.db.rows import insert_returning_ids, insert_rows, update_rows
from gateway.db.engine import make_engine
from gateway.db.models import Base, Issue, IssueBand, Report, ReportWorkOrder, WorkOrder
from tests.helpers.services import postgres_database

AT = datetime(2026, 11, 16, 1, 30, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    with ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if request.param == "postgresql" else f"sqlite:///{tmp_path / 'db.sqlite'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def _order(ticket: str, **extra: object) -> dict[str, object]:
    return {"ticket_no": ticket, "received_at": AT, "content_masked": "小区东门路灯不亮，晚上很黑", "category": ["城乡建设", "市政设施"],
            "flags": [], "category_inferred": False, **extra}


def test_ids_come_back_in_the_order_of_the_rows_and_the_values_as_given(engine: Engine) -> None:
    with engine.begin() as connection:
        first = insert_returning_ids(connection, WorkOrder.__table__, [_order("T-1")])
        ids = insert_returning_ids(connection, WorkOrder.__table__, [_order("T-3", street="梨园镇"), _order("T-2", street=None, category_inferred=True)])
    assert ids == [first[0] + 1, first[0] + 2]
    with engine.connect() as connection:
        rows = {r.ticket_no: r for r in connection.execute(select(WorkOrder.__table__))}
    assert [rows["T-3"].id, rows["T-2"].id] == ids
    t3 = rows["T-3"]
    assert (t3.street, t3.category, t3.flags, t3.category_inferred) == ("梨园镇", ["城乡建设", "市政设施"], [], False)
    assert rows["T-2"].category_inferred is True and rows["T-2"].street is None
    # UTC in, naive UTC stored, UTC out (gateway.db.models.UTCDateTime), and the column defaults applied (likes 0, first_seen_at now)
    assert WorkOrder.__table__.c.received_at.type.process_result_value(t3.received_at, None) == AT
    assert t3.likes == 0 and t3.repeat_count == 0 and t3.first_seen_at is not None


def test_rows_without_ids_are_inserted_and_a_duplicate_key_fails_the_whole_insert(engine: Engine) -> None:
    with engine.begin() as connection:
        insert_rows(connection, IssueBand.__table__, [])  # nothing to do
    with engine.begin() as connection:
        (issue,) = insert_returning_ids(connection, Issue.__table__, [
            {"issue_id": "I1", "category": [], "signature": [1, 2], "first_seen_at": AT, "last_seen_at": AT}])
        insert_rows(connection, IssueBand.__table__, [{"band": "00ab", "issue_pk": issue}, {"band": "01cd", "issue_pk": issue}])
    with pytest.raises(Exception) as caught, engine.begin() as connection:
        insert_rows(connection, IssueBand.__table__, [{"band": "02ef", "issue_pk": issue}, {"band": "00ab", "issue_pk": issue}])
    assert "unique" in str(caught.value).lower() or "duplicate" in str(caught.value).lower()
    with engine.connect() as connection:
        assert sorted(connection.execute(select(IssueBand.band))) == [("00ab",), ("01cd",)]  # the failed one left nothing


def test_an_update_sets_what_each_row_gives_in_the_rows_its_keys_name_and_nothing_else(engine: Engine) -> None:
    old = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with engine.begin() as connection:
        a, b, c = insert_returning_ids(connection, WorkOrder.__table__, [_order(t, updated_at=old) for t in ("A", "B", "C")])
        update_rows(connection, WorkOrder.__table__, [{"id": a, "committee_id": "jjw", "topic_pk": None}, {"id": c, "committee_id": "wsw", "topic_pk": None}])
    with engine.connect() as connection:
        rows = {r.ticket_no: r for r in connection.execute(select(WorkOrder.__table__))}
    assert {t: r.committee_id for t, r in rows.items()} == {"A": "jjw", "B": None, "C": "wsw"}
    stamp = WorkOrder.__table__.c.updated_at.type.process_result_value
    # updated_at is set as an UPDATE statement sets it (its onupdate), on the rows updated only
    assert stamp(rows["A"].updated_at, None) > old and stamp(rows["C"].updated_at, None) > old and stamp(rows["B"].updated_at, None) == old


def test_an_update_by_a_column_other_than_the_id_meets_the_fixed_conditions_too(engine: Engine) -> None:
    with engine.begin() as connection:
        (order,) = insert_returning_ids(connection, WorkOrder.__table__, [_order("A")])
        reports = insert_returning_ids(connection, Report.__table__, [
            {"client_id": "c", "report_id": r, "receipt_id": f"rc-{r}", "body_sha256": "0" * 64, "kind": "weekly", "received_at": AT, "state": "normalized", "record_count": 1} for r in ("R1", "R2")])
        insert_rows(connection, ReportWorkOrder.__table__, [
            {"report_pk": r, "work_order_pk": order, "record_index": 0, "content_index": 0, "seen_before": False} for r in reports])
        update_rows(connection, ReportWorkOrder.__table__, [{"work_order_pk": order, "clue_pk": None, "content_index": 5}],
                    keys=("work_order_pk",), where={"report_pk": reports[1]})
    with engine.connect() as connection:
        assert dict(connection.execute(select(ReportWorkOrder.report_pk, ReportWorkOrder.content_index)).all()) == {reports[0]: 0, reports[1]: 5}
