"""Nothing lost, nothing doubled: redelivered messages, a database that goes away, hostile bodies."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from gateway.bootstrap import Gateway, bootstrap
from gateway.db.models import (Clue, Delivery, DeliveryLog, Issue, IssueBand, OutboxMessage, Packet, PacketClue, Report,
                               ReportWorkOrder, WorkOrder)
from gateway.demo.generator import generate_week
from gateway.intake.receive import ReceiveReport, handle_receive_report
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, raw_post
from tests.helpers.services import PG_ADMIN, postgres_database
from tests.helpers.smtp import SmtpServer

MODELS = (Report, WorkOrder, ReportWorkOrder, Issue, IssueBand, Clue, Packet, PacketClue, Delivery)


def _state(gateway: Gateway) -> dict[str, Any]:
    with gateway.uow.session_factory() as session:
        counts = {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in MODELS}
        counts["deliveries_sent"] = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == "sent"))
        counts["send_attempts"] = session.scalar(select(func.count()).select_from(DeliveryLog))
        counts["reports_delivered"] = session.scalar(select(func.count()).select_from(Report).where(Report.state == "delivered"))
        counts["clue_titles"] = sorted(session.scalars(select(Clue.title)))
    return counts


def _drain(gateway: Gateway, *, times: int) -> int:
    """Run every queued step `times` times, as a broker that redelivers every message would; returns the messages handled."""
    handled = 0
    while True:
        with gateway.uow.session_factory() as session:
            pending = session.execute(select(OutboxMessage.id, OutboxMessage.actor, OutboxMessage.payload)
                                      .where(OutboxMessage.done_at.is_(None)).order_by(OutboxMessage.id)).all()
        if not pending:
            return handled
        for outbox_id, actor, payload in pending:
            for _ in range(times):
                gateway.stages.handlers()[actor](outbox_id=outbox_id, **payload)
                handled += 1


def _run(data_dir: Path, smtp: SmtpServer, *, times: int) -> tuple[dict[str, Any], int]:
    gateway = bootstrap(data_dir=data_dir, smtp_url=smtp.url)
    gateway.uow.dispatch = None  # the test is the broker
    try:
        week = generate_week(__import__("datetime").date(2026, 11, 16), records=400, seed=5)
        for report in (week.weekly, week.urgent, week.express):
            handle_receive_report(ReceiveReport(CLIENT_KEY_ID, report, signature=report["report_id"]), gateway.uow())
        handled = _drain(gateway, times=times)
        return _state(gateway), handled
    finally:
        gateway.close()


def test_every_message_handled_twice_leaves_the_same_state_as_once(tmp_path: Path) -> None:
    once_smtp, twice_smtp = SmtpServer().start(), SmtpServer().start()
    try:
        once, handled_once = _run(tmp_path / "once", once_smtp, times=1)
        twice, handled_twice = _run(tmp_path / "twice", twice_smtp, times=2)
        emails_once, emails_twice = len(once_smtp.inbox.messages), len(twice_smtp.inbox.messages)
        ids_twice = [m["Message-ID"] for _, m in twice_smtp.inbox.messages]
    finally:
        once_smtp.stop()
        twice_smtp.stop()
    print(f"messages handled: once {handled_once}, twice {handled_twice}; emails: {emails_once} and {emails_twice}")
    assert handled_twice == 2 * handled_once and handled_once >= 10
    assert twice == once
    assert once["reports_delivered"] == 3 and once["clues"] > 5
    assert emails_twice == emails_once and len(set(ids_twice)) == len(ids_twice)  # no email twice


@pytest.mark.services
def test_push_while_the_database_is_away_gets_503_with_retry_after_and_is_stored_once_it_is_back(tmp_path: Path, smtp: SmtpServer) -> None:
    from tests.helpers.reports import weekly

    with postgres_database() as url:
        name = url.rsplit("/", 1)[1]
        with running_gateway(tmp_path, database_url=url, smtp_url=smtp.url) as (gateway, server):
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            try:
                answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
                status, body, headers = raw_post(server.url, "/api/v1/reports", b"{}", {"Content-Type": "application/json"})
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                    admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert answer.status == 503, answer.body
            assert answer.body["type"] == "/problems/unavailable" and "Retry" in answer.body["detail"]
            retried = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
            assert retried.status == 202, retried.body
            with gateway.uow.session_factory() as session:
                assert session.scalar(select(func.count()).select_from(Report)) == 1


def _content_length(answer: bytes) -> int:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    return next((int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)


def test_a_body_that_trickles_in_gets_408_and_a_huge_declared_body_413_before_any_byte_is_read(tmp_path: Path) -> None:
    # No stopwatch: what is asserted is what the gateway answered to what it was sent. (The socket timeout only ends
    # a test whose gateway never answers.)
    with running_gateway(tmp_path, body_timeout_s=1.0) as (_, server):
        host, port = server.url.split("//")[1].split(":")
        head = (b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
                b"X-Gateway-Key-Id: a\r\nX-Gateway-Timestamp: 1\r\nX-Gateway-Signature: b\r\nConnection: close\r\n\r\n")

        def exchange(*pieces: bytes) -> bytes:
            """Send the pieces (a head and as much of its body as the case needs), then nothing more, and read the answer."""
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                for piece in pieces:
                    sock.sendall(piece)
                answer = b""
                while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _content_length(answer):
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
            return answer

        # 4 of 12 bytes, then silence (a slowloris): 408, saying how long the body may take.
        slow = exchange(head, b'{"a"')
        assert slow.startswith(b"HTTP/1.1 408") and b"within 1 s" in slow, slow[:400]
        # The same head with its body complete, in two pieces: read to the end and judged on its signature, not timed out.
        whole = exchange(head, b'{"a"', b': "bcd"}')
        assert whole.startswith(b"HTTP/1.1 401"), whole[:400]
        # A declared gigabyte, not one byte of it sent: 413 at once (the body is never read; nothing was there to read).
        huge = exchange(b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n")
        assert huge.startswith(b"HTTP/1.1 413"), huge[:400]
