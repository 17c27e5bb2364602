"""The message broker: RabbitMQ or Redis for separate worker processes, in-memory otherwise."""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker

from gateway.errors import ConfigError, TransientError


def make_broker(url: str | None, *, namespace: str) -> Broker:
    """Create (without connecting) the broker named by GATEWAY_BROKER_URL."""
    if not url:
        return StubBroker()
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, namespace=namespace)
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Publisher confirms: a send returns only once RabbitMQ has the message.
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise ConfigError(f"GATEWAY_BROKER_URL scheme {scheme!r} is not supported: use redis://host:6379/0 or amqp://user:pass@host:5672/")


def is_embedded(broker: Broker) -> bool:
    return isinstance(broker, StubBroker)


def check_broker(broker: Broker, url: str | None, timeout: float) -> str:
    """Readiness of the broker: in-process, or reachable (and for Redis answering a PING); raises saying why not."""
    if not url:
        return "in-process"
    parts = urlsplit(url)
    port = parts.port or {"redis": 6379, "rediss": 6380, "amqp": 5672, "amqps": 5671}.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
            pass
        if parts.scheme.startswith("redis"):
            broker.client.ping()  # type: ignore[attr-defined]
    except Exception as exc:
        raise TransientError(f"cannot reach the broker at {parts.hostname}:{port}: {type(exc).__name__}: {exc}") from exc
    return f"reachable at {parts.hostname}:{port}"
