"""The decisions that used to sit in entry points, called as handlers: no HTTP, no terminal, the broker only as the port sees it."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from contracts.consultations import Consultation as Table1
from gateway.bootstrap import Gateway, bootstrap
from gateway.db.models import Delivery, OutboxMessage, Packet, Supervision
from gateway.delivery.resend import resend_packet
from gateway.intake.receive import ReceiveReport, handle_receive_report
from gateway.loop.supervision import SHEET_COLUMNS, import_supervision_sheet, sheet_rows, supervision_sheet
from gateway.loop.table1 import FileTable1, file_table1
from gateway.queues import DELIVER, URGENT, queue_name
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.mailcheck import personal_data_in
from tests.helpers.reports import CALLER_NAME, CALLER_PHONE, call, wait_for_state, weekly
from tests.helpers.smtp import SmtpServer, free_port

CONFIG = (
    "routing:\n  committees:\n"
    "    - {id: urban, name: 城建环保委员会, short: 城建环保委, emails: [a@zx.example]}\n"
    "    - {id: office, name: 区政协办公室, short: 办公室, emails: [office@zx.example]}\n"
    "  rules:\n    - {committee: urban, categories: [城乡建设]}\n"
    "  triage: office\n"
)


DELIVERIES = (DELIVER, URGENT[DELIVER])


def _gateway(tmp_path: Path, **settings: Any) -> Gateway:
    config = tmp_path / "gateway.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return bootstrap(data_dir=tmp_path, config=config, **settings)


def _route(gw: Gateway) -> list[tuple[int, int]]:
    """Normalize and route what is queued, by calling the stage handlers as the actors would; returns (outbox id, packet pk) to deliver."""
    handlers = gw.stages.handlers()
    while True:
        with gw.uow.session_factory() as session:
            steps = session.execute(select(OutboxMessage.id, OutboxMessage.actor, OutboxMessage.payload)
                                    .where(OutboxMessage.done_at.is_(None), OutboxMessage.actor.not_in(DELIVERIES)).order_by(OutboxMessage.id)).all()
        if not steps:
            break
        for outbox_id, actor, payload in steps:
            handlers[actor](outbox_id=outbox_id, **payload)
    with gw.uow.session_factory() as session:
        return [(i, p["packet_pk"]) for i, p in session.execute(
            select(OutboxMessage.id, OutboxMessage.payload).where(OutboxMessage.actor.in_(DELIVERIES), OutboxMessage.done_at.is_(None)))]


def test_a_failed_send_schedules_its_next_try_through_the_emit_port(tmp_path: Path) -> None:
    gw = _gateway(tmp_path, smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    try:
        handle_receive_report(ReceiveReport(CLIENT_KEY_ID, weekly(), signature="s1"), gw.uow())
        (outbox_id, packet_pk), *_ = _route(gw)
        delayed = gw.broker.queues[queue_name(gw.settings.queue_prefix, DELIVER) + ".DQ"]  # dramatiq's delay queue (StubBroker)
        before = delayed.qsize()
        gw.stages.deliver(outbox_id=outbox_id, packet_pk=packet_pk)
        assert delayed.qsize() == before + 1
        message = json.loads(delayed.queue[-1])
        assert message["kwargs"] == {"outbox_id": outbox_id, "packet_pk": packet_pk}
        with gw.uow.session_factory() as session:
            (d,) = session.scalars(select(Delivery).where(Delivery.packet_pk == packet_pk)).all()
        assert d.state == "retry" and d.next_attempt_at is not None
        wait_ms = message["options"]["eta"] - message["message_timestamp"]
        assert abs(wait_ms - gw.retry_policy.wait_after(1).total_seconds() * 1000) < 5_000  # the policy's first wait, not dramatiq's backoff
        # A re-dispatch that finds nothing due sends nothing and schedules nothing more.
        gw.stages.deliver(outbox_id=outbox_id, packet_pk=packet_pk)
        assert delayed.qsize() == before + 1
    finally:
        gw.close()


def test_resend_reopens_failed_deliveries_and_queues_one_delivery_step(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    try:
        handle_receive_report(ReceiveReport(CLIENT_KEY_ID, weekly(), signature="s2"), gw.uow())
        for outbox_id, packet_pk in _route(gw):
            gw.stages.deliver(outbox_id=outbox_id, packet_pk=packet_pk)  # to the .eml folder: sent
        with gw.uow.session_factory() as session:
            packet = session.scalars(select(Packet).where(Packet.committee_id == "urban")).one()
            assert packet.state == "delivered"
        nothing = resend_packet(gw.uow(), packet.packet_id, routing=gw.routing, mail_domain=gw.settings.mail_domain)
        assert nothing.recipients == []
        with gw.uow.session_factory() as session:
            d = session.scalars(select(Delivery).where(Delivery.packet_pk == packet.id)).one()
            d.state, d.last_error = "failed", "550 no such user"
            session.commit()
            queued_before = session.query(OutboxMessage).filter(OutboxMessage.actor == DELIVER).count()
        resent = resend_packet(gw.uow(), packet.packet_id, routing=gw.routing, mail_domain=gw.settings.mail_domain)
        assert resent.recipients == ["a@zx.example"] and resent.message_id.startswith(f"<{packet.packet_id}.r1@")
        with gw.uow.session_factory() as session:
            d = session.scalars(select(Delivery).where(Delivery.packet_pk == packet.id)).one()
            assert (d.state, d.last_error) == ("retry", None)
            assert session.get(Packet, packet.id).state == "pending"
            assert session.query(OutboxMessage).filter(OutboxMessage.actor == DELIVER).count() == queued_before + 1
    finally:
        gw.close()


def _table1(activity: date) -> Table1:
    return Table1.model_validate({
        "workstation": "梨园镇委员工作站", "committee": "urban", "period": {"start": activity.isoformat(), "end": activity.isoformat()},
        "topic": "小区积水治理", "members": ["张委员"], "responsible_person": "王站长", "committee_director": "赵主任",
        "filled_on": activity.isoformat(),
        "items": [{"text": "协调改造排水管网", "outcome": "short_term", "assigned_unit": "区水务局"},
                  {"text": "清理雨水篦子", "outcome": "on_site"}],
    })


def test_the_supervision_sheet_round_trips_through_its_handlers(tmp_path: Path) -> None:
    gw = _gateway(tmp_path)
    try:
        receipt, changed = file_table1(gw.uow(), FileTable1("office", _table1(date(2026, 11, 20)), "api"), routing=gw.routing, calendar=gw.calendar)
        assert changed and len(receipt.supervision_ids) == 1
        with gw.uow.read_session() as session:
            rows = sheet_rows(session, gw.routing, only_open=True)
        assert [r.cells["督办编号"] for r in rows] == receipt.supervision_ids and rows[0].cells["办理状态"] == "未办结"
        sheet = load_workbook(__import__("io").BytesIO(supervision_sheet(rows)))
        ws = sheet.worksheets[0]
        assert [c.value for c in ws[1]] == [name for name, _, _ in SHEET_COLUMNS]
        heading = {c.value: c.column for c in ws[1]}
        ws.cell(row=2, column=heading["进展情况"], value="管网改造已完成设计")
        ws.cell(row=2, column=heading["办理状态"], value="已办结")
        ws.cell(row=3, column=heading["督办编号"], value="S-999999")  # an entry that does not exist
        filled = __import__("io").BytesIO()
        sheet.save(filled)
        updated, problems = import_supervision_sheet(gw.uow, filled.getvalue(), "督办.xlsx")
        assert updated == 1 and len(problems) == 1 and problems[0].startswith("第3行 S-999999")
        with gw.uow.session_factory() as session:
            s = session.scalars(select(Supervision)).one()
        assert (s.progress, s.state) == ("管网改造已完成设计", "done") and s.closed_at is not None
    finally:
        gw.close()


def test_an_urgent_report_without_records_reaches_the_office_as_one_masked_clue(tmp_path: Path, smtp: SmtpServer) -> None:
    """INTEGRATION.md: urgent reports may carry a narrative only. It must be mailed at once, not marked delivered unsent."""
    urgent = {
        "report_id": "TZ-2026-U4801", "kind": "urgent", "issued_at": "2026-11-29T21:30:00+08:00",
        "title": "突发性重点问题：暴雨致小区地下车库进水",
        # The summary goes through the same masker as every complaint text (names in free phrasing such as
        # “市民某某（电话…）称” are the real-exports issue's work: docs/quality.md).
        "summary": f"今晚强降雨，梨园镇多个小区地下车库进水，车辆被淹，群众集中来电。联系人：{CALLER_NAME}，电话{CALLER_PHONE}。",
        "records": [],
    }
    config = tmp_path / "gateway.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with running_gateway(tmp_path, smtp_url=smtp.url, config=config) as (gateway, server):
        answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", urgent)
        assert answer.status == 202, answer.body
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-U4801", timeout=60)
        ((recipients, message),) = smtp.inbox.wait_for(1)
    assert status["clues"] == 1 and [p["committee"] for p in status["packets"]] == ["区政协办公室"], status
    assert recipients == ["office@zx.example"] and str(message["Subject"]).startswith("【线索包·急】")
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "暴雨致小区地下车库进水" in text and "请办公室研究分办" in text and "车辆被淹" in text
    assert personal_data_in(message, CALLER_NAME, CALLER_PHONE) == []
