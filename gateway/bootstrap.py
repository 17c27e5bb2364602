"""bootstrap(): the composition root, the one place where settings become real adapters.

It chooses the adapters (`connectors/`, `workers/`) for the core's ports
(`gateway.ports`), wires the stage handlers (`gateway.stages`) into the actors,
and hands the entry points (the command line, the HTTP app, the demo) a
`Gateway`: the parts, and the few bundles of them the handlers take
(`mailer`, `puller()`, `feedback()`, `probes()`). Nothing in the core imports
this module.
"""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dramatiq
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError

from connectors.broker import check_broker, is_embedded, make_broker
from connectors.command_center import CommandCenterClient
from connectors.mail import make_transport
from gateway.db import migrate
from gateway.db.engine import make_engine
from gateway.db.models import GatewayMeta
from gateway.delivery.acknowledge import AckLinks
from gateway.delivery.mail_log import Mailer, RetryPolicy
from gateway.errors import ConfigError
from gateway.intake.pull_sync import Puller
from gateway.loop.feedback_push import Feedback
from gateway.ops.health import Probe, database_probe
from gateway.metrics import Metrics
from gateway.ops.metrics_state import refresh
from gateway.pipeline.classifier import CategoryClassifier
from gateway.pipeline.gazetteer import Gazetteer
from gateway.pipeline.normalize import Normalizer
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.pipeline.screening import Screening
from gateway.pipeline.taxonomy import DEFAULT_SYNONYMS, Taxonomy
from gateway.ports import MailTransport
from gateway.settings import ClientKey, GatewayConfig, Settings, load_config
from gateway.stages import Stages
from gateway.uow import UnitOfWorkFactory
from gateway.workdays import WorkCalendar
from workers.actors import declare
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
    mailer: Mailer
    stages: Stages
    metrics: Metrics = field(default_factory=Metrics)
    _feedback_center: CommandCenterClient | None = field(default=None, repr=False)

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
        return self.stages.vocabulary

    @property
    def embedded(self) -> bool:
        return is_embedded(self.broker)

    def _center(self, url: str | None, key: str | None, *, what: str, timeout_s: float, max_attempts: int, backoff_s: float) -> CommandCenterClient:
        key_id, sep, secret = (key or "").partition(":")
        if not url or not sep or not key_id or not secret:
            raise ConfigError(f"the {what} needs the command center's address and a key: " + (
                "set GATEWAY_PULL_URL and GATEWAY_PULL_KEY (keyid:secret)" if what == "pull" else
                "set GATEWAY_FEEDBACK_URL and GATEWAY_FEEDBACK_KEY=keyid:secret (or GATEWAY_PULL_URL and GATEWAY_PULL_KEY, used by default)"))
        return CommandCenterClient(url, key_id, secret, what=what, timeout_s=timeout_s, max_attempts=max_attempts, backoff_s=backoff_s,
                                   signature=self.settings.command_center_signature)

    @property
    def pull_source(self) -> str | None:
        """The configured sync's name (GATEWAY_PULL_CLIENT_ID, default the pull key's id), None without a pull source."""
        s = self.settings
        return (s.pull_client_id or (s.pull_key or "").partition(":")[0] or None) if s.pull_url else None

    def puller(self) -> Puller:
        """What `sync_once` needs, from GATEWAY_PULL_URL and GATEWAY_PULL_KEY; ConfigError without them."""
        s = self.settings
        if not s.pull_url:
            raise ConfigError("no pull source: set GATEWAY_PULL_URL and GATEWAY_PULL_KEY (keyid:secret)")
        s.pull_credentials()  # says what is wrong with the key
        center = self._center(s.pull_url, s.pull_key, what="pull", timeout_s=s.pull_timeout_s, max_attempts=s.pull_max_attempts, backoff_s=s.pull_backoff_s)
        return Puller(self.uow, self.metrics, center, source=self.pull_source or center.key_id, page_size=s.pull_page_size)

    def feedback(self) -> Feedback:
        """What `push_month` needs, from GATEWAY_FEEDBACK_URL/KEY (default the pull's); ConfigError without them."""
        s = self.settings
        if self._feedback_center is None:  # one client per gateway: its v1 signatures never repeat within a second
            self._feedback_center = self._center(s.feedback_url or s.pull_url, s.feedback_key or s.pull_key, what="feedback",
                                                 timeout_s=s.feedback_timeout_s, max_attempts=s.feedback_max_attempts, backoff_s=s.feedback_backoff_s)
        return Feedback(self.uow.session_factory, self._feedback_center, self.metrics)

    def probes(self) -> dict[str, tuple[Probe, str]]:
        """What /readyz checks: name → (probe, where)."""
        url = self.settings.broker_url
        return {
            "database": (database_probe(self.engine, self.settings.resolved_database_url), "database"),
            "broker": (lambda timeout: check_broker(self.broker, url, timeout), url or "in-process"),
            "mail": (self.transport.check, self.transport.location),
        }

    def refresh_gauges(self) -> None:
        """The gauges of state, read from the database (at scrape time)."""
        refresh(self.metrics, self.uow.read_session, chase_after_h=self.settings.ack_chase_after_h,
                dead_letter_after=self.settings.dead_letter_after, pull_source=self.pull_source)

    def close(self) -> None:
        self.broker.close()
        self.normalizer.close()
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
    uow = UnitOfWorkFactory(engine)
    citizen_secret = _meta_secret(uow, "citizen_hash_key")
    transport = make_transport(settings.smtp_url, settings.resolved_outbox_dir, ca_file=settings.smtp_ca_file)
    retry_policy = RetryPolicy(tuple(settings.retry_waits_s), timedelta(hours=settings.delivery_horizon_h))
    ack_links = AckLinks(settings.public_url, _meta_secret(uow, "ack_token_key"), timedelta(days=settings.ack_valid_days))
    normalizer = make_normalizer(config, citizen_secret)
    stages = Stages(uow=uow, settings=settings, routing=config.routing, normalizer=normalizer, vocabulary=topic_vocabulary(normalizer),
                    transport=transport, retry_policy=retry_policy, ack_links=ack_links, metrics=metrics)
    declared = declare(
        broker, stages.handlers(), queue_prefix=settings.queue_prefix, min_backoff_ms=settings.retry_min_backoff_ms,
        max_backoff_ms=settings.retry_max_backoff_ms, max_retries=settings.retry_max_retries,
    )
    dispatcher = Dispatcher(uow.session_factory, declared)
    uow.dispatch = dispatcher
    gateway = Gateway(
        config=config, engine=engine, uow=uow, transport=transport, broker=broker, actors=declared, dispatcher=dispatcher,
        citizen_secret=citizen_secret, ack_links=ack_links, retry_policy=retry_policy, calendar=WorkCalendar(config.calendar),
        metrics=metrics, normalizer=normalizer, stages=stages,
        mailer=Mailer(uow.session_factory, transport, retry_policy, sender=settings.mail_from, domain=settings.mail_domain, metrics=metrics),
    )
    gateway.calendar.on_fallback = lambda year: gateway.metrics.calendar_fallback.labels(str(year)).inc()
    return gateway


def make_normalizer(config: GatewayConfig, citizen_secret: bytes) -> Normalizer:
    """The normalizer the settings describe (taxonomy, places, classifier, screening); no database needed."""
    settings = config.settings
    taxonomy = Taxonomy.load(settings.taxonomy_file, synonyms={**DEFAULT_SYNONYMS, **config.categories})
    unknown = sorted(target for target in config.categories.values() if target not in taxonomy.vocabulary())
    if unknown:
        raise ConfigError(f"categories: {', '.join(unknown)} is no category of the taxonomy ({settings.taxonomy_file or 'the bundled one'}); "
                          f"map onto one of its names, e.g. {', '.join(sorted(taxonomy.level1)[:4])}")
    return Normalizer(
        taxonomy=taxonomy, gazetteer=Gazetteer.load(settings.gazetteer_file),
        classifier=CategoryClassifier.load(), citizen_secret=citizen_secret, min_confidence=settings.category_min_confidence,
        screening=Screening([(p.reason, p.pattern) for p in config.screening.patterns]),
        processes=normalize_processes(settings.normalize_processes, embedded=settings.broker_url is None),
    )


def normalize_processes(setting: int | None, *, embedded: bool) -> int:
    """Helper processes for normalization: as set, or one per core but one (this process works too) when workers run in-process."""
    if setting is not None:
        return setting
    return max(0, (os.cpu_count() or 1) - 1) if embedded else 0


def topic_vocabulary(normalizer: Normalizer) -> list[str]:
    """Words the segmenter must keep whole: the gazetteer's places and the taxonomy's category names."""
    gazetteer, taxonomy = normalizer.gazetteer, normalizer.taxonomy
    places = [*gazetteer.streets, *(c for cs in gazetteer.streets.values() for c in cs)]
    return sorted({*places, *taxonomy.vocabulary()})
