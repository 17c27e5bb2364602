"""A report goes in, a clue packet email comes out: embedded, and on real services with separate workers."""
from __future__ import annotations

import time

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.processes import gateway_env, gateway_process
from tests.helpers.reports import CALLER_NAME, CALLER_PHONE, call, wait_for_state, weekly
from tests.helpers.services import AMQP_URL, REDIS_URL, delete_rabbit_queues, delete_redis_keys, need, postgres_database
from tests.helpers.smtp import SmtpServer, free_port
from gateway.queues import STAGES


@contextmanager
def deployment(mode: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[tuple[str, list[str]]]:
    """The gateway in `mode`; yields its base URL once it listens, and its worker processes' metrics URLs (distributed modes)."""
    if mode == "embedded-sqlite":
        with running_gateway(tmp_path, smtp_url=smtp.url) as (_, server):
            yield server.url, []
        return
    prefix = "gwtest-" + uuid.uuid4().hex[:8]
    broker_url = {"postgres-rabbitmq": AMQP_URL, "postgres-redis": REDIS_URL}[mode]
    need("RabbitMQ" if "rabbitmq" in mode else "Redis", 5672 if "rabbitmq" in mode else 6379)
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_database())
        settings = dict(database_url=database_url, broker_url=broker_url, smtp_url=smtp.url, queue_prefix=prefix)
        # The API process upgrades the schema; the worker processes wait for nothing but the queue.
        _, server = stack.enter_context(running_gateway(tmp_path, workers=False, **settings))
        env = gateway_env(**settings, retry_min_backoff_ms="200", retry_max_backoff_ms="1000")
        ports = [free_port(), free_port()]
        for port in ports:
            stack.enter_context(gateway_process("worker", "--threads", "2", "--metrics-port", str(port), cwd=tmp_path, env=env))
        try:
            yield server.url, [f"http://127.0.0.1:{port}/metrics" for port in ports]
        finally:
            stack.close()
            if "rabbitmq" in mode:
                delete_rabbit_queues(prefix, list(STAGES))
            else:
                delete_redis_keys(prefix)


def _all_text(message: EmailMessage) -> str:
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


@pytest.mark.parametrize("mode", ["embedded-sqlite", pytest.param("postgres-rabbitmq", marks=pytest.mark.services), pytest.param("postgres-redis", marks=pytest.mark.services)])
def test_report_in_packet_email_out(mode: str, tmp_path: Path, smtp: SmtpServer) -> None:
    with deployment(mode, tmp_path, smtp) as (url, worker_metrics):
        answer = call(url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        assert answer.status == 202, answer.body
        status = wait_for_state(url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47", timeout=90)
        if worker_metrics:
            # Each worker process exports its own events on its own port (docs/operations.md); together they did all the steps.
            import urllib.request

            def done_steps() -> float:
                done = 0.0
                for url_ in worker_metrics:
                    with urllib.request.urlopen(url_, timeout=10) as response:
                        exported = response.read().decode()
                    assert "# TYPE gateway_worker_messages_total counter" in exported
                    done += sum(float(line.rsplit(" ", 1)[1]) for line in exported.splitlines()
                                if line.startswith("gateway_worker_messages_total{") and 'result="done"' in line)
                return done

            # A worker counts a message after its transaction committed: the last delivery may be counted a moment after
            # the report shows delivered, so read again a few times (a count, not a timing, is what is checked).
            for _ in range(40):
                if done_steps() >= 5:
                    break
                time.sleep(0.25)
            assert done_steps() >= 5  # normalize, route and three deliveries at least
    messages = smtp.inbox.wait_for(3)
    by_subject = {str(m["Subject"]): (rcpts, m) for rcpts, m in messages}
    assert set(by_subject) == {
        "【线索包】2026年第47周 · 城建环保委 · 1条线索",
        "【线索包】2026年第47周 · 教科卫体委 · 1条线索",
        "【线索包】2026年第47周 · 提案委 · 1条线索",
    }
    rcpts, urban = by_subject["【线索包】2026年第47周 · 城建环保委 · 1条线索"]
    assert rcpts == ["chengjian@zhengxie.example"]
    assert urban["Message-ID"] == "<P000001-urban.r1@gateway.local>"
    text = _all_text(urban)
    assert "城建环保委员会" in text and "社情民意信息线索" in text and "本期新出现" in text
    _, education = by_subject["【线索包】2026年第47周 · 教科卫体委 · 1条线索"]
    assert "提案线索" in _all_text(education) and "分布在3个街镇" in _all_text(education)
    assert "138****5678" in text and "王某某" in text
    for _, message in messages:
        everything = _all_text(message)
        assert CALLER_PHONE not in everything and CALLER_NAME not in everything
        assert "已向法院起诉" not in everything  # the excluded work order is never routed
    assert {p["state"] for p in status["packets"]} == {"delivered"}
    assert all(d["state"] == "sent" for p in status["packets"] for d in p["deliveries"])
