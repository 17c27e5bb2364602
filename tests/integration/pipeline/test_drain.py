"""Routing as a drain (no report waits on a retry timer), poison reports set aside, urgent reports on their own queues.

The stage handlers are called as the actors would call them, in the order a test chooses: what a crash or a
busy worker could make of the order, without a broker or a clock.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from gateway.bootstrap import Gateway, bootstrap
from gateway.db.models import OutboxMessage, Report, ReportChunk
from gateway.intake.file_import import FileMeta, import_file
from gateway.intake.receive import ReceiveReport, handle_receive_report
from gateway.queues import DELIVER, NORMALIZE, ROUTE, URGENT
from ops.gwenv import gateway_env
from tests.helpers import CLIENT_KEY_ID
from tests.helpers.reports import record, weekly


@pytest.fixture
def gw(tmp_path: Path) -> Any:
    gateway = bootstrap(data_dir=tmp_path, retry_min_backoff_ms=10, poison_after=3, assign_early=True)  # SQLite's default is off
    yield gateway
    gateway.close()


def _receive(gw: Gateway, report_id: str, n: int = 4, kind: str = "weekly") -> int:
    data = weekly(report_id, [record(f"{report_id}-{i}", content=f"云景里小区门口道路积水严重，第{i}处。") for i in range(n)])
    data["kind"] = kind
    handle_receive_report(ReceiveReport(CLIENT_KEY_ID, data, signature=f"sig-{report_id}"), gw.uow())
    with gw.uow.read_session() as session:
        return session.scalar(select(Report.id).where(Report.report_id == report_id))


def _steps(gw: Gateway, report_pk: int, actors: tuple[str, ...]) -> list[tuple[int, str, dict[str, Any]]]:
    with gw.uow.read_session() as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(OutboxMessage.id, OutboxMessage.actor, OutboxMessage.payload)
            .where(OutboxMessage.done_at.is_(None), OutboxMessage.actor.in_(actors)).order_by(OutboxMessage.id)) if row.payload["report_pk"] == report_pk]


def _run(gw: Gateway, report_pk: int, *stages: str) -> None:
    handlers = gw.stages.handlers()
    for outbox_id, actor, payload in _steps(gw, report_pk, stages):
        handlers[actor](outbox_id=outbox_id, **payload)


def _states(gw: Gateway) -> dict[str, str]:
    with gw.uow.read_session() as session:
        return dict(session.execute(select(Report.report_id, Report.state).order_by(Report.id)).all())


def _routed_order(gw: Gateway) -> list[str]:
    with gw.uow.read_session() as session:
        return list(session.scalars(select(Report.report_id).where(Report.routed_at.is_not(None)).order_by(Report.routed_at, Report.id)))


def test_reports_normalized_out_of_order_are_routed_in_arrival_order_without_waiting(gw: Gateway) -> None:
    a, b, c = (_receive(gw, name) for name in ("R-A", "R-B", "R-C"))
    _run(gw, c, NORMALIZE)
    _run(gw, b, NORMALIZE)
    _run(gw, c, ROUTE)  # A is still being normalized: C waits for it, without an error and without a retry timer
    _run(gw, b, ROUTE)
    assert _states(gw) == {"R-A": "received", "R-B": "normalized", "R-C": "normalized"}
    assert [actor for _, actor, _ in _steps(gw, c, (ROUTE,))] == [ROUTE]  # C's message stays open (the sweep's safety net)
    _run(gw, a, NORMALIZE)
    _run(gw, a, ROUTE)  # A's message drains A, then B, then C
    assert _states(gw) == {"R-A": "routed", "R-B": "routed", "R-C": "routed"}
    assert _routed_order(gw) == ["R-A", "R-B", "R-C"]
    assert _steps(gw, b, (ROUTE,)) == [] and _steps(gw, c, (ROUTE,)) == []  # their messages are done with them


def test_a_report_that_cannot_be_normalized_is_set_aside_and_does_not_hold_the_others(gw: Gateway, tmp_path: Path) -> None:
    poison, later = _receive(gw, "R-POISON"), _receive(gw, "R-LATER")
    with gw.uow.session_factory() as session:  # a chunk no normalizer can read (as corrupt data or a bug would make it)
        session.execute(update(ReportChunk).where(ReportChunk.report_pk == poison).values(records=[{"ticket_no": None}]))
        session.commit()
    _run(gw, later, NORMALIZE)
    _run(gw, later, ROUTE)
    assert _states(gw)["R-LATER"] == "normalized"  # it waits for the earlier report …
    for attempt in range(1, 3):
        with pytest.raises(Exception):
            _run(gw, poison, NORMALIZE)  # … which fails: the queue would retry it
        assert _states(gw)["R-POISON"] == "received"
    _run(gw, poison, NORMALIZE)  # the third failure sets it aside and lets the drain go on
    _run(gw, poison, ROUTE)
    assert _states(gw) == {"R-POISON": "stuck", "R-LATER": "routed"}
    with gw.uow.read_session() as session:
        stuck = session.scalar(select(Report).where(Report.id == poison))
        assert stuck is not None and stuck.failures == 3 and "normalization failed" in (stuck.last_error or "") and stuck.stuck_at is not None
    gw.refresh_gauges()
    assert gw.metrics.registry.get_sample_value("gateway_reports_stuck") == 1
    assert gw.metrics.registry.get_sample_value("gateway_reports_set_aside_total", {"stage": "normalize"}) == 1

    env = gateway_env(data_dir=str(tmp_path))
    listed = subprocess.run([sys.executable, "-m", "gateway.cli", "reports", "list", "--stuck"], capture_output=True, text=True,
                            env={**env, "COLUMNS": "250"}, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "R-POISON" in listed.stdout and "normalization failed" in listed.stdout and "R-LATER" not in listed.stdout

    with gw.uow.session_factory() as session:  # the cause fixed, an operator puts it back
        session.execute(update(ReportChunk).where(ReportChunk.report_pk == poison).values(
            records=[record("R-POISON-0", content="云景里小区门口道路积水严重。")]))
        session.commit()
    retried = subprocess.run([sys.executable, "-m", "gateway.cli", "reports", "retry", "R-POISON"], capture_output=True, text=True, env=env, timeout=120)
    assert retried.returncode == 0, retried.stderr
    _run(gw, poison, NORMALIZE)
    _run(gw, poison, ROUTE)
    assert _states(gw)["R-POISON"] in ("routed", "delivered") and "R-POISON" in _routed_order(gw)  # one work order: routed, no clue


def test_a_report_whose_routing_fails_every_time_is_set_aside_and_the_drain_goes_on(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.pipeline.route as route

    bad, good = _receive(gw, "R-BAD"), _receive(gw, "R-GOOD")
    _run(gw, bad, NORMALIZE)
    _run(gw, good, NORMALIZE)
    real = route._route

    def failing(report: Report, uow: Any, **options: Any) -> Any:
        if report.report_id == "R-BAD":
            raise ValueError("a topic the clustering cannot handle")
        return real(report, uow, **options)

    monkeypatch.setattr(route, "_route", failing)
    for _ in range(gw.settings.poison_after - 1):
        with pytest.raises(ValueError):
            _run(gw, bad, ROUTE)
    assert _states(gw) == {"R-BAD": "normalized", "R-GOOD": "normalized"}
    _run(gw, bad, ROUTE)
    assert _states(gw) == {"R-BAD": "stuck", "R-GOOD": "routed"}
    assert gw.metrics.registry.get_sample_value("gateway_reports_set_aside_total", {"stage": "route"}) == 1


def test_an_urgent_report_goes_through_its_own_queues_and_does_not_wait_for_earlier_reports(gw: Gateway) -> None:
    monthly = _receive(gw, "R-MONTH", n=30, kind="monthly")
    urgent = _receive(gw, "R-URGENT", n=1, kind="urgent")
    assert [actor for _, actor, _ in _steps(gw, urgent, tuple(URGENT.values()))] == [URGENT[NORMALIZE]]
    assert {actor for _, actor, _ in _steps(gw, monthly, (NORMALIZE, *URGENT.values()))} == {NORMALIZE}
    _run(gw, urgent, URGENT[NORMALIZE])
    _run(gw, urgent, URGENT[ROUTE])  # the monthly report before it is not normalized yet: the urgent one is routed all the same
    assert _states(gw) == {"R-MONTH": "received", "R-URGENT": "routed"}
    with gw.uow.read_session() as session:
        deliveries = session.scalars(select(OutboxMessage.actor).where(OutboxMessage.actor.in_((DELIVER, URGENT[DELIVER])))).all()
    assert deliveries and set(deliveries) == {URGENT[DELIVER]}
    declared = {name: actor.priority for name, actor in gw.actors.items()}
    assert all(declared[name] < declared[stage] for stage, name in URGENT.items())  # a worker takes urgent steps first
    assert sorted(declared) == sorted([NORMALIZE, ROUTE, DELIVER, *URGENT.values()])


def test_a_burst_of_reports_pushed_back_to_back_drains_in_arrival_order_without_a_single_retry(tmp_path: Path) -> None:
    """The issue's 60 reports back to back (here of 10 work orders each): all routed, in arrival order, no step retried."""
    from tests.helpers import CLIENT_SECRET
    from tests.helpers.gateway import running_gateway
    from tests.helpers.reports import call

    names = [f"BURST-{i:02d}" for i in range(60)]
    with running_gateway(tmp_path) as (gateway, served):
        for name in names:
            report = weekly(name, [record(f"{name}-{i}", content=f"云景里小区门口道路积水严重（{name}，第{i}处）。") for i in range(10)])
            assert call(served.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report).status == 202
        import time

        deadline = time.monotonic() + 300  # a bound for a broken build, not a measurement: the figures are in ops/chaos/crash.py
        while time.monotonic() < deadline and len(_routed_order(gateway)) < len(names):
            time.sleep(0.2)
        assert _routed_order(gateway) == names  # every one routed, in the order received
        retried = sum(gateway.metrics.registry.get_sample_value("gateway_worker_messages_total", {"actor": actor, "result": "retried"}) or 0
                      for actor in (NORMALIZE, ROUTE))
        assert retried == 0  # nothing waited on a retry timer
        with gateway.uow.read_session() as session:
            open_routes = session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.actor == ROUTE, OutboxMessage.done_at.is_(None)))
        assert open_routes == 0


def test_normalization_puts_a_chunks_work_orders_into_issues_and_routing_writes_them_with_committee_and_topic(gw: Gateway) -> None:
    from gateway.db.models import IssueAssignment, WorkOrder

    pk = _receive(gw, "R-SIG", n=3)
    _run(gw, pk, NORMALIZE)
    with gw.uow.read_session() as session:
        rows = session.execute(select(WorkOrder.committee_id, WorkOrder.issue_pk, WorkOrder.topic_pk)).all()
        assigned = session.scalars(select(IssueAssignment.issue_pk)).all()
        report = session.get(Report, pk)
        chunk = session.scalar(select(ReportChunk).where(ReportChunk.report_pk == pk))
        assert (report.chunks_assigned, report.near_duplicates, chunk.signatures) == (1, 2, None)  # assigned, and let go
    # Three texts that differ in one character are one issue, assigned as the chunk was normalized and kept aside;
    # routing writes it to the work orders with committee and topic.
    assert len(assigned) == 3 and len(set(assigned)) == 1
    assert {(r.committee_id, r.issue_pk, r.topic_pk) for r in rows} == {(None, None, None)}
    _run(gw, pk, ROUTE)
    with gw.uow.read_session() as session:
        routed = session.execute(select(WorkOrder.committee_id, WorkOrder.issue_pk, WorkOrder.topic_pk)).all()
        assert session.scalar(select(func.count()).select_from(IssueAssignment)) == 0
    assert {r.issue_pk for r in routed} == set(assigned) and len({r.topic_pk for r in routed}) == 1 and len({r.committee_id for r in routed}) == 1
    assert None not in {v for r in routed for v in r}


def test_an_urgent_reports_chunk_keeps_its_signatures_for_its_routing_which_assigns_them(gw: Gateway) -> None:
    from gateway.db.models import WorkOrder
    from gateway.pipeline.assign import unpack_signatures
    from gateway.pipeline.neardup import HASHER

    pk = _receive(gw, "R-URG", n=3, kind="urgent")
    _run(gw, pk, URGENT[NORMALIZE])
    with gw.uow.read_session() as session:
        texts = dict(session.execute(select(WorkOrder.id, WorkOrder.content_masked)).all())
        chunk = session.scalar(select(ReportChunk).where(ReportChunk.report_pk == pk))
        stored = unpack_signatures(chunk.signatures)
        assert session.scalar(select(func.count()).where(WorkOrder.issue_pk.is_not(None))) == 0  # not behind the drain
    assert [o.id for o in stored] == sorted(texts) and all(o.minhash == HASHER.pack([texts[o.id]])[0] for o in stored)
    _run(gw, pk, URGENT[ROUTE])
    with gw.uow.read_session() as session:
        assert len(set(session.scalars(select(WorkOrder.issue_pk)))) == 1
        assert session.scalar(select(ReportChunk.signatures).where(ReportChunk.report_pk == pk)) is None
        assert session.get(Report, pk).near_duplicates == 2


def _partition(gw: Gateway) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], list[tuple[str, int, tuple[str, ...]]], dict[str, int]]:
    """Who shares an issue and a topic with whom (by ticket, not by id), the clues, and each ticket's first record."""
    from gateway.db.models import Clue, ReportWorkOrder, WorkOrder

    with gw.uow.read_session() as session:
        rows = session.execute(select(WorkOrder.ticket_no, WorkOrder.issue_pk, WorkOrder.topic_pk)).all()
        clues = sorted((c.title, c.work_order_count, tuple(sorted(c.ticket_nos))) for c in session.scalars(select(Clue)))
        first = dict(session.execute(select(WorkOrder.ticket_no, ReportWorkOrder.record_index).join(ReportWorkOrder.__table__,
                                                                                                   ReportWorkOrder.work_order_pk == WorkOrder.id)).all())
    def groups(column: int) -> dict[str, tuple[str, ...]]:
        members: dict[Any, list[str]] = {}
        for row in rows:
            members.setdefault(row[column], []).append(row[0])
        return {row[0]: tuple(sorted(members[row[column]])) for row in rows}
    return groups(1), groups(2), clues, first


def test_the_same_report_gives_the_same_issues_topics_and_clues_whichever_chunk_is_normalized_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.intake.receive
    import gateway.pipeline.assign

    monkeypatch.setattr(gateway.intake.receive, "CHUNK_SIZE", 3)
    texts = ["云景里小区门口道路积水严重，一下雨就没过脚踝，希望彻底解决排水问题。", "永顺南里小区供暖温度不达标，家里只有十五度左右。"]
    records = [record(f"T-{i:02d}", content=("再次反映：" * (i % 3)) + texts[i % 2]) for i in range(10)]
    # A ticket of chunk 0 again in the last chunk, now about the other matter: the last text is kept, and the issue is
    # the last text's, whether the last chunk was normalized before or after the first.
    records.append(record("T-01", content="再次反映：" + texts[0]))
    outcomes = []
    data = weekly("R-ORDER", records)
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()
    meta = FileMeta(data["kind"], data["report_id"], data["period"]["start"], data["period"]["end"])
    for name, reverse, drain, as_file, batch in (("forward", False, True, False, 4), ("backward", True, True, False, 4),
                                                 ("killed before each drain", False, False, False, 4), ("a file, backward", True, True, True, 4),
                                                 ("forward, a chunk at a time", False, True, False, 1)):
        # The third: no assignment drain after the chunks (as if each worker were killed right after its chunk
        # committed; SQLite's default): routing assigns all. The fourth: the same records in a .jsonl file, which is
        # stored a chunk at a time (store_stream). The fifth: the drain takes one chunk at a time, not four.
        monkeypatch.setattr(gateway.pipeline.assign, "ASSIGN_BATCH", batch)
        gw_ = bootstrap(data_dir=tmp_path / name, assign_early=drain)
        try:
            if as_file:
                import_file(gw_.uow, lines, "r-order.jsonl", meta, client_id=CLIENT_KEY_ID, source="import")
            else:
                handle_receive_report(ReceiveReport(CLIENT_KEY_ID, data, signature="sig-order"), gw_.uow())
            with gw_.uow.read_session() as session:
                pk = session.scalar(select(Report.id))
                # T-01 (record 1) is in the last chunk again: chunk 0 leaves it to that one
                assert session.scalars(select(ReportChunk.repeated_later).order_by(ReportChunk.seq)).all() == [[1], None, None, None]
            steps = _steps(gw_, pk, (NORMALIZE,))
            assert len(steps) == 4
            handlers = gw_.stages.handlers()
            for outbox_id, actor, payload in (reversed(steps) if reverse else steps):
                handlers[actor](outbox_id=outbox_id, **payload)
            with gw_.uow.read_session() as session:
                assert session.scalar(select(Report.chunks_assigned)) == (4 if drain else 0)
            _run(gw_, pk, ROUTE)
            with gw_.uow.read_session() as session:
                assert session.scalar(select(Report.chunks_assigned)) == 4
            outcomes.append(_partition(gw_))
        finally:
            gw_.close()
    forward, backward, killed, from_file, one_by_one = outcomes
    assert forward == backward == killed == from_file == one_by_one
    issues, topics, clues, first = forward
    assert first["T-01"] == 1 and first["T-09"] == 9  # the ticket's first record, though the last chunk was normalized first
    assert issues["T-00"] == issues["T-01"] == ("T-00", "T-01", "T-02", "T-04", "T-06", "T-08")
    assert issues["T-03"] == ("T-03", "T-05", "T-07", "T-09")
    assert clues and all(count >= 1 for _, count, _ in clues)


def test_a_later_reports_chunks_wait_for_the_earlier_reports_assignment(gw: Gateway) -> None:
    # The drain assigns in arrival order: the second report's chunk, normalized first, is assigned only after the
    # first report's, so that the first report's work orders found the issue and the second's join it.
    from gateway.db.models import WorkOrder
    from gateway.pipeline.assign import issues_of

    first, second = _receive(gw, "R-EARLY", n=2), _receive(gw, "R-LATE", n=2)
    _run(gw, second, NORMALIZE)
    with gw.uow.read_session() as session:
        assert session.scalars(select(Report.chunks_assigned).order_by(Report.id)).all() == [0, 0]
    _run(gw, first, NORMALIZE)
    with gw.uow.read_session() as session:
        assert session.scalars(select(Report.chunks_assigned).order_by(Report.id)).all() == [1, 1]
        assert session.scalars(select(Report.near_duplicates).order_by(Report.id)).all() == [1, 2]
        issue_of = issues_of(session, list(session.scalars(select(WorkOrder.id))))
    assert len(issue_of) == 4 and len(set(issue_of.values())) == 1 and None not in issue_of.values()


def test_a_chunk_where_one_work_order_keeps_its_newer_status_and_another_takes_this_reports_updates_both(gw: Gateway) -> None:
    # T-A and T-B arrive first in a report issued on 11-20 (status 已受理); T-A again in one issued on 11-25 (已办结);
    # then a report issued on 11-22 carries both (处理中): T-A keeps 11-25's 已办结, T-B takes 11-22's 处理中.
    from gateway.db.models import WorkOrder

    def push(report_id: str, issued: str, tickets: list[str], status: str) -> None:
        data = weekly(report_id, [record(t, status=status, content=f"{t}号楼下水道堵塞，污水外溢。") for t in tickets])
        data["issued_at"] = f"2026-11-{issued}T08:00:00+08:00"
        handle_receive_report(ReceiveReport(CLIENT_KEY_ID, data, signature=f"sig-{report_id}"), gw.uow())
        with gw.uow.read_session() as session:
            pk = session.scalar(select(Report.id).where(Report.report_id == report_id))
        _run(gw, pk, NORMALIZE)

    push("R-1120", "20", ["T-A", "T-B"], "已受理")
    push("R-1125", "25", ["T-A"], "已办结")
    for order in (["T-A", "T-B"], ["T-B", "T-A"]):  # whichever comes first in the chunk
        push(f"R-1122-{order[0]}", "22", order, "处理中")
        with gw.uow.read_session() as session:
            assert dict(session.execute(select(WorkOrder.ticket_no, WorkOrder.status)).all()) == {"T-A": "closed", "T-B": "processing"}


def test_a_chunk_finishes_while_another_workers_chunk_of_the_same_report_holds_its_foreign_key_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two workers normalizing chunks of one report on PostgreSQL: each chunk's appearances reference the report, so
    # each transaction holds a KEY SHARE lock on its row (the foreign key check) until it commits. A chunk that then
    # locked the report FOR UPDATE waited for the other's, and two of them deadlocked (the loser's chunk went back
    # to the queue for a retry). Here the other worker is a connection holding that same lock; lock_timeout turns a
    # wait into an error instead of a hang.
    import psycopg
    from sqlalchemy.engine import make_url

    import gateway.intake.receive
    from tests.helpers.services import postgres_database

    monkeypatch.setattr(gateway.intake.receive, "CHUNK_SIZE", 2)
    with postgres_database() as url:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{make_url(url).database}" SET lock_timeout = \'5s\'')
        gateway = bootstrap(data_dir=tmp_path, database_url=url)
        try:
            pk = _receive(gateway, "R-LOCK", n=4)
            steps = _steps(gateway, pk, (NORMALIZE,))
            assert len(steps) == 2
            with psycopg.connect(dsn) as other:
                other.execute("SELECT id FROM reports WHERE id = %s FOR KEY SHARE", (pk,))
                handlers = gateway.stages.handlers()
                outbox_id, actor, payload = steps[0]
                handlers[actor](outbox_id=outbox_id, **payload)  # raised LockNotAvailable with FOR UPDATE
                other.rollback()
            outbox_id, actor, payload = steps[1]
            handlers[actor](outbox_id=outbox_id, **payload)
            with gateway.uow.read_session() as session:
                assert session.scalar(select(Report.chunks_normalized).where(Report.id == pk)) == 2
                assert session.scalar(select(Report.state).where(Report.id == pk)) == "normalized"
        finally:
            gateway.close()


def test_a_report_normalized_before_chunks_carried_signatures_gets_its_issues_from_routing(tmp_path: Path) -> None:
    # What migration 0015 leaves of a report normalized but not routed before it: chunks without signatures.
    from gateway.db.models import WorkOrder

    gw = bootstrap(data_dir=tmp_path)
    pk = _receive(gw, "R-OLD", n=3)
    _run(gw, pk, NORMALIZE)
    with gw.uow() as uow:
        uow.session.execute(update(ReportChunk).where(ReportChunk.report_pk == pk).values(signatures=None))
        uow.commit()
    _run(gw, pk, ROUTE)
    with gw.uow.read_session() as session:
        issues = session.scalars(select(WorkOrder.issue_pk)).all()
        report = session.get(Report, pk)
        assert (report.state, report.chunks_assigned, report.near_duplicates) == ("routed", 1, 0)
    gw.close()
    assert len(issues) == 3 and len(set(issues)) == 1 and None not in issues  # assigned from the texts, as before


def test_on_postgresql_chunks_are_assigned_as_they_are_normalized_with_the_same_outcome_as_sqlite(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # PostgreSQL's default is to assign early (an advisory lock, array look-ups); SQLite's is to leave it to routing.
    import gateway.intake.receive
    from tests.helpers.services import postgres_database

    monkeypatch.setattr(gateway.intake.receive, "CHUNK_SIZE", 2)
    outcomes = []
    with postgres_database() as url:
        for name, database_url in (("sqlite", None), ("postgresql", url)):
            gateway = bootstrap(data_dir=tmp_path / name, database_url=database_url)
            try:
                first, second = _receive(gateway, "R-A", n=5), _receive(gateway, "R-B", n=3)
                for pk in (second, first):  # the later report's chunks first, each report's backwards
                    handlers = gateway.stages.handlers()
                    for outbox_id, actor, payload in reversed(_steps(gateway, pk, (NORMALIZE,))):
                        handlers[actor](outbox_id=outbox_id, **payload)
                with gateway.uow.read_session() as session:
                    assigned = session.scalars(select(Report.chunks_assigned).order_by(Report.id)).all()
                assert assigned == ([3, 2] if database_url else [0, 0])
                _run(gateway, first, ROUTE)
                _run(gateway, second, ROUTE)
                assert _states(gateway) == {"R-A": "routed", "R-B": "routed"}
                outcomes.append(_partition(gateway))
            finally:
                gateway.close()
    assert outcomes[0] == outcomes[1]
    issues = outcomes[0][0]
    assert len(set(issues.values())) == 1  # one matter: all eight in one issue, across the two reports


def test_the_drain_waits_for_a_batch_of_chunks_or_the_reports_last_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.intake.receive
    import gateway.pipeline.assign

    monkeypatch.setattr(gateway.intake.receive, "CHUNK_SIZE", 2)
    monkeypatch.setattr(gateway.pipeline.assign, "ASSIGN_BATCH", 2)
    gw = bootstrap(data_dir=tmp_path, assign_early=True)
    try:
        pk = _receive(gw, "R-BATCH", n=9)  # five chunks: assigned 2, 2 and the last one
        handlers = gw.stages.handlers()
        seen = []
        for outbox_id, actor, payload in _steps(gw, pk, (NORMALIZE,)):
            handlers[actor](outbox_id=outbox_id, **payload)
            with gw.uow.read_session() as session:
                seen.append(session.scalar(select(Report.chunks_assigned)))
        assert seen == [0, 2, 2, 4, 5]
    finally:
        gw.close()
