"""The message broker: RabbitMQ or Redis for separate worker processes, in-memory otherwise."""
from __future__ import annotations

from urllib.parse import urlsplit

from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker

from gateway.errors import ConfigError


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
