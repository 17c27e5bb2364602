"""Clue packets as the office receives them, through mail servers in every mood (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.request import Request, urlopen
from urllib.error import HTTPError

import pytest
from sqlalchemy import func, select

from gateway.db.models import Delivery, DeliveryLog, Notice, Packet, utcnow
from gateway.delivery.notices import chase_unacknowledged, send_digest
from gateway.delivery.packet_email import XLSX_COLUMNS
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.mailcheck import personal_data_in, xlsx_rows
from tests.helpers.reports import CALLER_NAME, CALLER_PHONE, call, record, wait_for_state, weekly
from tests.helpers.smtp import SmtpServer, free_port

CONFIG = (
    "routing:\n  committees:\n"
    "    - {id: urban, name: 城建环保委员会, short: 城建环保委, emails: [a@zx.example, b@zx.example, gone@zx.example]}\n"
    "    - {id: education, name: 教科卫体委员会, short: 教科卫体委, emails: [edu@zx.example]}\n"
    "    - {id: office, name: 区政协办公室, short: 办公室, emails: [office@zx.example]}\n"
    "  rules:\n    - {committee: urban, categories: [城乡建设]}\n    - {committee: education, categories: [教育文体]}\n"
    "  triage: office\n"
)
ID_NUMBER = "11010519491231002X"


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _report() -> dict[str, object]:
    # Flooding in one town (a clue for urban), plus a complaint the rules cannot place (a clue for triage),
    # with an ID number in a text besides the caller's name and phone.
    report = weekly()
    report["records"] = report["records"][:4] + [  # type: ignore[index]
        record(f"26111603{i:05d}", category=["党务政务", "政务服务"], street="宋庄镇",
               content=f"我叫{CALLER_NAME}，身份证号{ID_NUMBER}，政务服务中心窗口排队时间太长（{i}）。") for i in range(3)
    ]
    return report


def _urban_only() -> dict[str, object]:
    # One packet only, so that the server's fault script meets that packet's sends in order.
    report = weekly()
    report["records"] = report["records"][:3] + [  # type: ignore[index]
        record("2611160000003", content=f"我叫{CALLER_NAME}，身份证号{ID_NUMBER}，电话{CALLER_PHONE}，小区门口道路积水严重。")
    ]
    return report


def _deliveries_log(gateway) -> list[tuple[str, int, str, str | None]]:  # type: ignore[no-untyped-def]
    with gateway.uow.session_factory() as session:
        return [
            (recipient, log.attempt, log.result, log.detail)
            for recipient, log in session.execute(
                select(Delivery.recipient, DeliveryLog).join(DeliveryLog, DeliveryLog.delivery_pk == Delivery.id).order_by(DeliveryLog.id)
            )
        ]


def test_packet_survives_421_451_and_a_dropped_connection_and_550_fails_one_recipient_alone(tmp_path: Path, smtp: SmtpServer) -> None:
    smtp.inbox.faults = ["421", "451", "drop"]  # the first three transactions fail, each differently
    smtp.inbox.refuse["gone@zx.example"] = "550 5.1.1 mailbox unavailable"
    with running_gateway(tmp_path, smtp_url=smtp.url, config=_config(tmp_path)) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", _urban_only())
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47", timeout=60)
        log = _deliveries_log(gateway)
        metrics = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/metrics").body

    print("server:", *smtp.inbox.log, sep="\n  ")  # shown with -s: the delivery log of this test
    print("send log (recipient, attempt, result, server's answer):", *log, sep="\n  ")
    (urban,) = status["packets"]
    states = {d["recipient"]: d["state"] for d in urban["deliveries"]}
    assert states == {"a@zx.example": "sent", "b@zx.example": "sent", "gone@zx.example": "failed"}
    assert urban["state"] == "partial"
    # The send log: three transient failures, then delivered; the 550 is permanent for that address only.
    urban_log = [(r, a, res) for r, a, res, _ in log if r in states]
    assert [(a, res) for r, a, res in urban_log if r == "a@zx.example"] == [(1, "retry"), (2, "retry"), (3, "retry"), (4, "sent")]
    assert [(a, res) for r, a, res in urban_log if r == "gone@zx.example"] == [(1, "retry"), (2, "retry"), (3, "retry"), (4, "failed")]
    gone_detail = [d for r, _, res, d in log if r == "gone@zx.example" and res == "failed"]
    assert gone_detail and gone_detail[0].startswith("550")
    assert smtp.inbox.log[:3] == ["421 at MAIL FROM", "451 at end of DATA", "connection dropped during DATA"]
    assert 'gateway_deliveries_total{result="failed"} 1.0' in metrics

    assert len(smtp.inbox.messages) == 1, "one email for the committee, however many attempts it took"
    rcpts, message = smtp.inbox.messages[0]
    assert rcpts == ["a@zx.example", "b@zx.example"]
    assert message["Message-ID"] == "<P000001-urban.r1@gateway.local>"
    _check_packet_email(message, clues=1, subject="【线索包】2026年第47周 · 城建环保委 · 1条线索")
    for _, m in smtp.inbox.messages:
        assert personal_data_in(m, CALLER_NAME, CALLER_PHONE, ID_NUMBER) == []


def _check_packet_email(message: EmailMessage, *, clues: int, subject: str) -> None:
    raw = bytes(message)
    assert b"=?utf-8?" in raw.split(b"\n\n", 1)[0].lower() or b"=?UTF-8?" in raw  # the Chinese subject is RFC 2047 encoded
    assert str(message["Subject"]) == subject
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert "城建环保委员会：" in text.get_content() and "城建环保委员会：" in html.get_content()
    assert "<script" not in html.get_content() and "src=\"http" not in html.get_content()  # nothing fetched from outside
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "线索包-城建环保委-2026年第47周.xlsx"
    assert re.search(rb"filename\*(0\*)?=utf-8''%E7%BA%BF%E7%B4%A2%E5%8C%85", raw), "the Chinese file name, encoded as RFC 2231 says"
    rows = xlsx_rows(attachment.get_content())
    assert rows[0] == [name for name, _ in XLSX_COLUMNS]
    assert len(rows) == 1 + clues
    assert rows[1][1] == "社情民意信息线索" and rows[1][6] == 4 and "2611160000000" in str(rows[1][14])


def test_the_attachment_opens_ready_to_read(tmp_path: Path, smtp: SmtpServer) -> None:
    import io

    from openpyxl import load_workbook

    with running_gateway(tmp_path, smtp_url=smtp.url, config=_config(tmp_path)) as (_, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", _report())
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    message = next(m for _, m in smtp.inbox.wait_for(2) if "城建环保委" in str(m["Subject"]))
    (attachment,) = list(message.iter_attachments())
    sheet = load_workbook(io.BytesIO(attachment.get_content())).active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width == 40 and sheet.column_dimensions["N"].width == 60
    assert sheet["A1"].font.bold


class _Clock:
    """The delivery stage's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


# The default waits (GATEWAY_DELIVERY_RETRY_S=60,300,900,1800), worked out by hand: attempts at 0, 1, 6 and 21 min, then
# every 30 min from 51 min on. With a 2 h horizon the 7th, at 1 h 51 min, is the last; with the default 48 h, the 99th,
# at 47 h 51 min.
ATTEMPTS_IN_2_H = [0, 60, 360, 1260, 3060, 4860, 6660]
LAST_IN_48_H, ATTEMPTS_IN_48_H = 47 * 3600 + 51 * 60, 99


def test_the_default_retry_schedule_tries_99_times_in_48_hours() -> None:
    from gateway.delivery.mail_log import RetryPolicy
    from gateway.settings import Settings

    settings = Settings()
    policy = RetryPolicy(tuple(settings.retry_waits_s), timedelta(hours=settings.delivery_horizon_h))
    start = utcnow()
    at: datetime | None = start
    attempts: list[int] = []
    while at is not None:
        attempts.append(int((at - start).total_seconds()))
        at = policy.next_attempt(len(attempts), started=start, now=at)
    assert attempts[:7] == ATTEMPTS_IN_2_H and all(b - a == 1800 for a, b in zip(attempts[4:], attempts[5:]))
    assert len(attempts) == ATTEMPTS_IN_48_H and attempts[-1] == LAST_IN_48_H


def test_mail_server_down_past_the_horizon_gives_up_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.delivery.send
    from gateway.bootstrap import bootstrap
    from gateway.db.models import OutboxMessage
    from gateway.intake.receive import ReceiveReport, handle_receive_report
    from gateway.queues import DELIVER

    clock = _Clock()
    monkeypatch.setattr(gateway.delivery.send, "utcnow", clock)
    port = free_port()  # nothing listens here
    gw = bootstrap(data_dir=tmp_path, smtp_url=f"smtp://127.0.0.1:{port}", config=_config(tmp_path), delivery_horizon_h=2)  # the default waits
    gw.uow.dispatch = None  # the test is the broker
    try:
        handle_receive_report(ReceiveReport(CLIENT_KEY_ID, _report(), signature="down"), gw.uow())
        while True:  # normalize and route
            with gw.uow.session_factory() as session:
                steps = session.execute(select(OutboxMessage.id, OutboxMessage.actor, OutboxMessage.payload)
                                        .where(OutboxMessage.done_at.is_(None), OutboxMessage.actor != DELIVER)).all()
            if not steps:
                break
            for outbox_id, actor, payload in steps:
                gw.stages.handlers()[actor](outbox_id=outbox_id, **payload)
        with gw.uow.session_factory() as session:
            packets = session.execute(select(OutboxMessage.id, OutboxMessage.payload, Packet.created_at)
                                      .join(Packet, Packet.id == OutboxMessage.payload["packet_pk"].as_integer())
                                      .where(OutboxMessage.actor == DELIVER)).all()
        assert packets

        early_attempts = 0
        for outbox_id, payload, created_at in packets:
            clock.now = created_at
            for _ in range(len(ATTEMPTS_IN_2_H) + 5):
                gw.stages.handlers()[DELIVER](outbox_id=outbox_id, **payload)
                with gw.uow.session_factory() as session:
                    mine = session.scalars(select(Delivery).where(Delivery.packet_pk == payload["packet_pk"])).all()
                    logged = session.scalar(select(func.count()).select_from(DeliveryLog))
                if all(d.state == "failed" for d in mine):
                    break
                due = min(d.next_attempt_at for d in mine)
                clock.now = due - timedelta(seconds=1)  # a second early: nothing is due, nothing is sent
                gw.stages.handlers()[DELIVER](outbox_id=outbox_id, **payload)
                with gw.uow.session_factory() as session:
                    early_attempts += (session.scalar(select(func.count()).select_from(DeliveryLog)) or 0) - (logged or 0)
                clock.now = due
        with gw.uow.session_factory() as session:
            deliveries = session.scalars(select(Delivery)).all()
            states = {p.state for p in session.scalars(select(Packet))}
            created = {p.id: p.created_at for p in session.scalars(select(Packet))}
            started = [(row.delivery_pk, row.started_at) for row in session.scalars(select(DeliveryLog).order_by(DeliveryLog.id))]
        exposition = gw.metrics.exposition().decode()
    finally:
        gw.close()
    assert states == {"failed"} and early_attempts == 0
    assert {d.recipient for d in deliveries} >= {"a@zx.example", "b@zx.example", "gone@zx.example"}  # the urban packet at least
    for d in deliveries:
        offsets = [int((at - created[d.packet_pk]).total_seconds()) for pk, at in started if pk == d.id]
        assert offsets == ATTEMPTS_IN_2_H and d.attempts == len(ATTEMPTS_IN_2_H)
        assert d.state == "failed" and d.last_error.startswith(f"gave up after {len(ATTEMPTS_IN_2_H)} attempt(s) in 2 h: ") and "cannot connect" in d.last_error
    assert f'gateway_deliveries_total{{result="failed"}} {float(len(deliveries))}' in exposition


def _ack_url(message: EmailMessage) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    (url,) = re.findall(r"http://\S+/ack/\S+", text)
    return url


def test_acknowledgement_link_confirms_once_and_refuses_forged_and_expired_tokens(tmp_path: Path, smtp: SmtpServer) -> None:
    port = free_port()
    with running_gateway(tmp_path, smtp_url=smtp.url, config=_config(tmp_path), public_url=f"http://127.0.0.1:{port}",
                         ack_chase_after_h=1 / 3600) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", _report())
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        message = next(m for _, m in smtp.inbox.wait_for(2) if "城建环保委" in str(m["Subject"]))
        link = _ack_url(message)
        assert link.startswith(f"http://127.0.0.1:{port}/ack/")  # GATEWAY_PUBLIC_URL
        assert link in message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
        url = link.replace(f"127.0.0.1:{port}", server.url.split("//")[1])

        page = urlopen(url).read().decode()  # a link scanner's GET changes nothing
        assert "确认收到" in page and "<form method=\"post\">" in page
        with gateway.uow.session_factory() as session:
            assert session.scalar(select(Packet.acknowledged_at).where(Packet.packet_id == "P000001-urban")) is None

        page = urlopen(Request(url, method="POST")).read().decode()
        assert "已确认收到" in page
        with gateway.uow.session_factory() as session:
            first = session.scalar(select(Packet.acknowledged_at).where(Packet.packet_id == "P000001-urban"))
        assert first is not None
        urlopen(Request(url, method="POST")).read()  # twice: the first time stands
        with gateway.uow.session_factory() as session:
            assert session.scalar(select(Packet.acknowledged_at).where(Packet.packet_id == "P000001-urban")) == first

        token = url.rsplit("/", 1)[1]
        payload, signature = token.split(".")
        for forged in (payload + "." + signature[:-2] + "AA", payload[:-2] + "xx." + signature, "nonsense"):
            with pytest.raises(HTTPError) as refused:
                urlopen(Request(url.rsplit("/", 1)[0] + "/" + forged, method="POST"))
            assert refused.value.code == 404 and "此链接无效" in refused.value.read().decode()
        expired = gateway.ack_links.token("P000001-office", 1, utcnow() - timedelta(days=30))
        with pytest.raises(HTTPError) as refused:
            urlopen(Request(url.rsplit("/", 1)[0] + "/" + expired, method="POST"))
        assert refused.value.code == 410 and "已过期" in refused.value.read().decode()
        with gateway.uow.session_factory() as session:
            assert session.scalar(select(Packet.acknowledged_at).where(Packet.packet_id == "P000001-office")) is None
        time.sleep(1.1)  # past the (one-second) acknowledgement time
        metrics = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/metrics").body
    assert "gateway_packet_acknowledgements_total 1.0" in metrics
    assert "gateway_packets_unacknowledged_overdue 1.0" in metrics  # the office's packet; urban's was acknowledged


def test_unacknowledged_packets_are_chased_once(tmp_path: Path, smtp: SmtpServer) -> None:
    smtp.inbox.refuse["gone@zx.example"] = "550 5.1.1 mailbox unavailable"
    with running_gateway(tmp_path, smtp_url=smtp.url, config=_config(tmp_path), ack_chase_after_h=1) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", _report())
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        smtp.inbox.wait_for(2)
        assert chase_unacknowledged(gateway.mailer, gateway.routing, gateway.ack_links, chase_after_h=gateway.settings.ack_chase_after_h) == []  # not late yet
        later = utcnow() + timedelta(hours=2)
        chased = chase_unacknowledged(gateway.mailer, gateway.routing, gateway.ack_links, chase_after_h=gateway.settings.ack_chase_after_h, now=later)
        assert sorted(chased) == ["P000001-office", "P000001-urban"]
        assert chase_unacknowledged(gateway.mailer, gateway.routing, gateway.ack_links, chase_after_h=gateway.settings.ack_chase_after_h, now=later + timedelta(days=3)) == []  # once, never again
        metrics = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/metrics").body
    reminders = [(rcpts, m) for rcpts, m in smtp.inbox.wait_for(4) if str(m["Subject"]).startswith("【催阅】")]
    assert len(reminders) == 2
    rcpts, urban = next((r, m) for r, m in reminders if "城建环保委" in str(m["Subject"]))
    assert rcpts == ["a@zx.example", "b@zx.example"]  # those who got the packet
    assert urban["Message-ID"] == "<P000001-urban.chase@gateway.local>"
    body = urban.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "尚未确认收到" in body and "/ack/" in body
    assert "gateway_packet_chases_total 2.0" in metrics


def test_daily_digest_reaches_the_office_once_with_the_triage_list(tmp_path: Path, smtp: SmtpServer) -> None:
    from gateway.periods import SHANGHAI

    with running_gateway(tmp_path, smtp_url=smtp.url, config=_config(tmp_path)) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", _report())
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        before = len(smtp.inbox.wait_for(2))
        today = utcnow().astimezone(SHANGHAI).date()
        assert send_digest(gateway.mailer, gateway.routing, today, chase_after_h=gateway.settings.ack_chase_after_h) is True
        assert send_digest(gateway.mailer, gateway.routing, today, chase_after_h=gateway.settings.ack_chase_after_h) is False  # made once per day
        with gateway.uow.session_factory() as session:
            (notice,) = session.scalars(select(Notice)).all()
    assert notice.state == "sent" and notice.key == f"digest:{today.isoformat()}"
    messages = smtp.inbox.wait_for(before + 1)
    assert len(messages) == before + 1
    rcpts, digest = messages[-1]
    assert rcpts == ["office@zx.example"]
    assert str(digest["Subject"]).startswith("【每日汇总】")
    text = digest.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "城建环保委：P000001-urban，1条线索、4件工单" in text
    triage = text.split("三、待分办线索")[1]
    assert "党务政务" in triage and "3件" in triage
    assert digest.get_body(preferencelist=("html",)) is not None
    assert personal_data_in(digest, CALLER_NAME, CALLER_PHONE, ID_NUMBER) == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # smtps: the whole connection is TLS
@pytest.mark.parametrize("mode", ["smtp+starttls", "smtps"])
def test_packet_goes_over_tls_with_login(mode: str, tmp_path: Path) -> None:
    import ssl

    from tests.helpers.smtp import login_required, self_signed_certificate

    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    # aiosmtpd offers AUTH only after STARTTLS unless told that an implicit-TLS connection is secure too.
    tls = {"tls_context": context, "require_starttls": True} if mode == "smtp+starttls" else {"ssl_context": context, "auth_require_tls": False}
    server = SmtpServer(auth_required=True, authenticator=login_required("gateway", "p@ss:w0rd/%"), **tls).start()
    try:
        url = f"{mode}://gateway:p%40ss%3Aw0rd%2F%25@127.0.0.1:{server.controller.port}"
        with running_gateway(tmp_path, smtp_url=url, smtp_ca_file=cert, config=_config(tmp_path)) as (_, gw_server):
            call(gw_server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", _urban_only())
            status = wait_for_state(gw_server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        ((rcpts, message),) = server.inbox.wait_for(1)
    finally:
        server.stop()
    assert status["packets"][0]["state"] == "delivered"
    assert rcpts == ["a@zx.example", "b@zx.example", "gone@zx.example"]
    assert message["Message-ID"] == "<P000001-urban.r1@gateway.local>"


def test_untrusted_certificate_is_not_sent_to_and_the_error_says_what_to_set(tmp_path: Path) -> None:
    import ssl

    from connectors.mail import SmtpTransport
    from gateway.errors import TransientError
    from tests.helpers.smtp import self_signed_certificate

    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(ssl_context=context).start()
    try:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "x", "gw@zx.example", "a@zx.example"
        message.set_content("x")
        with pytest.raises(TransientError, match="GATEWAY_SMTP_CA_FILE"):
            SmtpTransport(f"smtps://127.0.0.1:{server.controller.port}").send(message, ["a@zx.example"], name="x")
    finally:
        server.stop()
    assert server.inbox.messages == []


def test_packets_are_shown_previewed_and_resent_from_the_command_line(tmp_path: Path, smtp: SmtpServer) -> None:
    import email as email_lib
    import subprocess
    import sys
    from email import policy

    from tests.helpers.processes import gateway_env

    smtp.inbox.refuse["gone@zx.example"] = "550 5.1.1 mailbox unavailable"
    config = _config(tmp_path)
    with running_gateway(tmp_path, smtp_url=smtp.url, config=config) as (_, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", _urban_only())
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    (sent,) = smtp.inbox.wait_for(1)
    env = gateway_env(data_dir=str(tmp_path), config=str(config), smtp_url=smtp.url, client_keys=f"{CLIENT_KEY_ID}:{CLIENT_SECRET}")

    def gateway(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, env={**env, "COLUMNS": "200"},
                                cwd=tmp_path, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    shown = gateway("packets", "show", "P000001-urban").stdout
    assert "Subject: 【线索包】2026年第47周 · 城建环保委 · 1条线索" in shown and "城建环保委员会：" in shown
    assert "gone@zx.example" in shown and "550 5.1.1 mailbox unavailable" in shown  # the send log
    gateway("packets", "preview", "P000001-urban", "--html", "p.html", "--eml", "p.eml", "--xlsx", "p.xlsx")
    again = email_lib.message_from_bytes((tmp_path / "p.eml").read_bytes(), policy=policy.default)
    assert again["Message-ID"] == sent[1]["Message-ID"] and str(again["Subject"]) == str(sent[1]["Subject"])
    assert "<table" in (tmp_path / "p.html").read_text(encoding="utf-8")
    assert xlsx_rows((tmp_path / "p.xlsx").read_bytes())[0] == [name for name, _ in XLSX_COLUMNS]

    # The address is fixed in the routing configuration; the packet goes again to that recipient only, same Message-ID.
    config.write_text(CONFIG.replace("gone@zx.example", "back@zx.example"), encoding="utf-8")
    assert "back@zx.example" in gateway("packets", "resend", "P000001-urban").stdout
    with running_gateway(tmp_path, smtp_url=smtp.url, config=config):  # its start re-dispatches the queued resend
        messages = smtp.inbox.wait_for(2)
    rcpts, resent = messages[1]
    assert rcpts == ["back@zx.example"] and resent["Message-ID"] == sent[1]["Message-ID"]
    printed = gateway("digest", "--print", "--date", utcnow().astimezone(__import__("gateway.periods").periods.SHANGHAI).date().isoformat()).stdout
    assert printed.startswith("Subject: 【每日汇总】") and "城建环保委：P000001-urban" in printed
