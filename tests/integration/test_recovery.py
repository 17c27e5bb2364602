"""A crash or an outage loses nothing: unfinished work is dispatched again, mail waits for its server."""
from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select

from connectors.mail import SmtpTransport
from gateway.bootstrap import bootstrap
from gateway.db.models import Delivery, OutboxMessage, Packet
from gateway.delivery.send import handle_deliver_packet
from gateway.intake.receive import ReceiveReport, handle_receive_report
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, wait_for_state, weekly
from tests.helpers.smtp import SmtpServer, free_port


def test_accepted_report_whose_messages_never_reached_a_queue_is_finished_after_restart(tmp_path: Path, smtp: SmtpServer) -> None:
    # Commit happened, then the process died before sending to the broker.
    gateway = bootstrap(data_dir=tmp_path, client_keys=f"{CLIENT_KEY_ID}:{CLIENT_SECRET}", smtp_url=smtp.url)
    gateway.uow.dispatch = None
    handle_receive_report(ReceiveReport(CLIENT_KEY_ID, weekly(), signature="x" * 64), gateway.uow())
    gateway.close()

    with running_gateway(tmp_path, smtp_url=smtp.url) as (_, server):
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    assert status["records"]["routed"] == 9
    assert len(smtp.inbox.wait_for(3)) == 3


def test_messages_lost_with_the_in_memory_queue_are_dispatched_again_at_start(tmp_path: Path, smtp: SmtpServer) -> None:
    # First life: the API accepts and dispatches to the in-memory queue, but no worker runs before the "crash".
    with running_gateway(tmp_path, workers=False, smtp_url=smtp.url) as (gateway, server):
        assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly()).status == 202
        with gateway.uow.session_factory() as session:
            (message,) = session.scalars(select(OutboxMessage)).all()
            assert message.dispatched_at is not None and message.done_at is None
    # Second life: the queue is gone, the database is not.
    with running_gateway(tmp_path, smtp_url=smtp.url) as (gateway, server):
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        with gateway.uow.session_factory() as session:
            assert all(m.done_at is not None for m in session.scalars(select(OutboxMessage)))
    assert len(smtp.inbox.wait_for(3)) == 3


def test_packet_waits_while_the_mail_server_is_down_and_goes_out_when_it_is_back(tmp_path: Path) -> None:
    port = free_port()
    with running_gateway(tmp_path, smtp_url=f"smtp://127.0.0.1:{port}") as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with gateway.uow.session_factory() as session:
                attempts = [d.attempts for d in session.scalars(select(Delivery))]
                states = {d.state for d in session.scalars(select(Delivery))}
            if attempts and min(attempts) >= 2 and states == {"retry"}:
                break
            time.sleep(0.2)
        assert states == {"retry"} and min(attempts) >= 2
        late = SmtpServer(port).start()
        try:
            status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47", timeout=60)
            messages = late.inbox.wait_for(3)
        finally:
            late.stop()
    assert {p["state"] for p in status["packets"]} == {"delivered"}
    assert len({m["Message-ID"] for _, m in messages}) == 3


class _CrashAfterSend(SmtpTransport):
    """Sends, then dies before the gateway can record that it sent."""

    def send(self, message, recipients, *, name):  # type: ignore[no-untyped-def]
        super().send(message, recipients, name=name)
        raise SystemExit("crash between sent and recorded")


def test_unconfirmed_send_is_resent_with_the_same_message_id(tmp_path: Path, smtp: SmtpServer) -> None:
    with running_gateway(tmp_path, workers=False, smtp_url=smtp.url) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
    gateway = bootstrap(data_dir=tmp_path, smtp_url=smtp.url)
    try:
        # Route synchronously, without a worker, to get the packet rows.
        from gateway.pipeline.normalize import handle_normalize_report
        from gateway.pipeline.route import handle_route_report

        handle_normalize_report(1, gateway.uow(), normalizer=gateway.normalizer, keep_raw=False, assign=gateway.stages.assign_early, seq=0)
        handle_route_report(1, gateway.uow(), routing=gateway.routing, mail_domain="gateway.local")
        with gateway.uow.session_factory() as session:
            packet = session.scalar(select(Packet).where(Packet.packet_id == "P000001-urban"))
            assert packet is not None
            packet_pk = packet.id
        try:
            handle_deliver_packet(packet_pk, gateway.uow, transport=_CrashAfterSend(smtp.url), routing=gateway.routing, sender="gw <gw@localhost>")
        except SystemExit:
            pass
        with gateway.uow.session_factory() as session:
            assert {d.state for d in session.scalars(select(Delivery).where(Delivery.packet_pk == packet_pk))} == {"sending"}
        outcome = handle_deliver_packet(packet_pk, gateway.uow, transport=SmtpTransport(smtp.url), routing=gateway.routing, sender="gw <gw@localhost>")
        assert outcome.sent == 1 and outcome.waiting == 0
    finally:
        gateway.close()
    first, second = smtp.inbox.wait_for(2)
    assert first[1]["Message-ID"] == second[1]["Message-ID"] == "<P000001-urban.r1@gateway.local>"


def test_refused_recipient_is_failed_alone_and_the_others_still_get_it(tmp_path: Path, smtp: SmtpServer) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        "routing:\n  committees:\n"
        "    - {id: urban, name: 城建环保委员会, short: 城建环保委, emails: [a@zx.example, gone@zx.example]}\n"
        "    - {id: office, name: 区政协办公室, short: 办公室, emails: [office@zx.example]}\n"
        "  rules:\n    - {committee: urban, categories: [城乡建设, 教育文体, 政法]}\n  triage: office\n",
        encoding="utf-8",
    )
    smtp.inbox.refuse["gone@zx.example"] = "550 5.1.1 mailbox unavailable"
    with running_gateway(tmp_path, smtp_url=smtp.url, config=config) as (_, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    (packet,) = status["packets"]
    states = {d["recipient"]: (d["state"], d["last_error"]) for d in packet["deliveries"]}
    assert states["a@zx.example"] == ("sent", None)
    assert states["gone@zx.example"][0] == "failed" and states["gone@zx.example"][1].startswith("550")
    assert packet["state"] == "partial"
    ((rcpts, _),) = smtp.inbox.wait_for(1)
    assert rcpts == ["a@zx.example"]
