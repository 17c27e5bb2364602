"""Real PostgreSQL, Redis and RabbitMQ for the distributed-mode tests.

A service that cannot be reached skips its tests, unless GATEWAY_REQUIRE_SERVICES=1
(CI), where it fails them.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ops.scratchdb import PG_ADMIN, scratch_database

REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
START_HINTS = {
    5432: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    6379: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no',
    5672: "rabbitmq-server -detached",
}


def required() -> bool:
    return os.environ.get("GATEWAY_REQUIRE_SERVICES", "").lower() in ("1", "true", "yes")


def need(name: str, port: int) -> None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return
    except OSError as exc:
        message = f"{name} is not reachable on 127.0.0.1:{port} ({exc}); start it with: {START_HINTS[port]}"
        if required():
            pytest.fail(message + " (GATEWAY_REQUIRE_SERVICES=1 makes this a failure)")
        pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own for one test, dropped after."""
    need("PostgreSQL", 5432)
    with scratch_database(PG_ADMIN) as url:
        yield url


def delete_rabbit_queues(prefix: str, names: list[str]) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        for name in names:
            for suffix in ("", ".DQ", ".XQ"):
                channel.queue_delete(queue=f"{prefix}.{name}{suffix}")
    finally:
        connection.close()


def delete_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()
