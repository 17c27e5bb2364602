"""bootstrap(): the one place where settings become real adapters."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dramatiq
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError

from connectors.broker import is_embedded, make_broker
from connectors.mail import MailTransport, make_transport
from gateway.delivery.acknowledge import AckLinks
from gateway.db import migrate
from gateway.delivery.send import RetryPolicy
from gateway.db.engine import make_engine
from gateway.db.models import GatewayMeta
from gateway.errors import ConfigError
from gateway.pipeline.classifier import CategoryClassifier
from gateway.pipeline.gazetteer import Gazetteer
from gateway.ops.metrics import Metrics
from gateway.pipeline.normalize import Normalizer
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.pipeline.screening import Screening
from gateway.settings import ClientKey, GatewayConfig, Settings, load_config
from gateway.pipeline.taxonomy import Taxonomy
from gateway.uow import UnitOfWorkFactory
from gateway.workdays import WorkCalendar
from workers import actors as actor_module
from workers.dispatch import Dispatcher
from workers.middleware import WorkerMetrics

log = logging.getLogger(__name__)


@dataclass
class Gateway:
    config: GatewayConfig
    engine: Engine
    uow: UnitOfWorkFactory
    transport: MailTransport
    broker: dramatiq.Broker
    actors: dict[str, dramatiq.Actor[Any, Any]]
    dispatcher: Dispatcher
    citizen_secret: bytes
    ack_links: AckLinks
    retry_policy: RetryPolicy
    normalizer: Normalizer
    calendar: WorkCalendar
    metrics: Metrics = field(default_factory=Metrics)

    @property
    def settings(self) -> Settings:
        return self.config.settings

    @property
    def routing(self) -> RoutingConfig:
        return self.config.routing

    @property
    def clients(self) -> dict[str, ClientKey]:
        return self.config.clients

    @property
    def topic_vocabulary(self) -> list[str]:
        """Words the segmenter must keep whole: the gazetteer's places and the taxonomy's category names."""
        gazetteer, taxonomy = self.normalizer.gazetteer, self.normalizer.taxonomy
        places = [*gazetteer.streets, *(c for cs in gazetteer.streets.values() for c in cs)]
        return sorted({*places, *taxonomy.vocabulary()})

    @property
    def embedded(self) -> bool:
        return is_embedded(self.broker)

    def close(self) -> None:
        from workers import actors

        actors.unbind(self)
        self.broker.close()
        self.engine.dispose()


def _meta_secret(uow: UnitOfWorkFactory, key: str) -> bytes:
    """A random secret made once per deployment and kept in the database, so every process shares it."""
    with uow.session_factory() as session:
        row = session.get(GatewayMeta, key)
        if row is None:
            session.add(GatewayMeta(key=key, value=secrets.token_hex(32)))
            try:
                session.commit()
            except IntegrityError:  # another process made it first
                session.rollback()
            row = session.get(GatewayMeta, key)
        assert row is not None
        return bytes.fromhex(row.value)


def bootstrap(*, upgrade_db: bool = True, gateway_config: GatewayConfig | None = None, **overrides: Any) -> Gateway:
    """Wire a gateway from settings. Nothing connects before this is called."""
    config = gateway_config or load_config(**overrides)
    settings = config.settings
    url = settings.resolved_database_url
    if upgrade_db:
        migrate.upgrade(url)
    engine = make_engine(url)
    if not upgrade_db and "outbox" not in inspect(engine).get_table_names():
        engine.dispose()
        raise ConfigError(f"the database at {engine.url.render_as_string(hide_password=True)} has no schema yet: run `gateway db upgrade` first")
    broker = make_broker(settings.broker_url, namespace=settings.queue_prefix)
    metrics = Metrics()
    broker.add_middleware(WorkerMetrics(metrics))
    declared = actor_module.declare(
        broker, queue_prefix=settings.queue_prefix, min_backoff_ms=settings.retry_min_backoff_ms,
        max_backoff_ms=settings.retry_max_backoff_ms, max_retries=settings.retry_max_retries,
    )
    uow = UnitOfWorkFactory(engine)
    dispatcher = Dispatcher(uow.session_factory, declared)
    uow.dispatch = dispatcher
    citizen_secret = _meta_secret(uow, "citizen_hash_key")
    gateway = Gateway(
        config=config, engine=engine, uow=uow,
        transport=make_transport(settings.smtp_url, settings.resolved_outbox_dir, ca_file=settings.smtp_ca_file),
        broker=broker, actors=declared, dispatcher=dispatcher, citizen_secret=citizen_secret,
        ack_links=AckLinks(settings.public_url, _meta_secret(uow, "ack_token_key"), timedelta(days=settings.ack_valid_days)),
        retry_policy=RetryPolicy(tuple(settings.retry_waits_s), timedelta(hours=settings.delivery_horizon_h)),
        calendar=WorkCalendar(config.calendar),
        metrics=metrics,
        normalizer=Normalizer(
            taxonomy=Taxonomy.load(settings.taxonomy_file), gazetteer=Gazetteer.load(settings.gazetteer_file),
            classifier=CategoryClassifier.load(), citizen_secret=citizen_secret, min_confidence=settings.category_min_confidence,
            screening=Screening([(p.reason, p.pattern) for p in config.screening.patterns]),
        ),
    )
    gateway.calendar.on_fallback = lambda year: gateway.metrics.calendar_fallback.labels(str(year)).inc()
    actor_module.bind(gateway)
    return gateway
