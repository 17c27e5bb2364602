"""All settings in one model. Read in bootstrap(), never at import time.

Precedence: environment (GATEWAY_*) over the configuration file's `settings:`
section over the defaults below.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.errors import ConfigError
from gateway.intake.report_files import ColumnNames
from gateway.workdays import CalendarOverrides
from gateway.pipeline.routing_rules import RoutingConfig, bundled_routing_path, load_routing, parse_routing
from gateway.yamlconfig import load_yaml, validate_at


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="forbid")

    config: Path | None = Field(None, description="Configuration file (YAML): settings, clients, routing.")
    data_dir: Path = Field(Path("gateway-data"), description="Where the SQLite database and the mail outbox live.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<data_dir>/gateway.db.")
    broker_url: str | None = Field(None, description="redis://… or amqp://…; unset: workers run in-process.")
    smtp_url: str | None = Field(None, description="smtp://host:port, smtps://user:pass@host:port, smtp+starttls://…; unset: .eml files.")
    smtp_ca_file: Path | None = Field(None, description="PEM file of the CA that signed the SMTP relay's certificate, if not a public one.")
    mail_from: str = Field("区政协接诉即办信息共享平台 <gateway@localhost>", description="From: of clue packets.")
    mail_domain: str = Field("gateway.local", description="Right-hand side of Message-IDs.")
    outbox_dir: Path | None = Field(None, description="Folder for .eml files when no SMTP server is set; default <data_dir>/outbox.")
    public_url: str = Field("http://127.0.0.1:8080", description="The gateway's address as committees reach it: the base of acknowledgement links in packets.")
    delivery_retry_s: str = Field("60,300,900,1800", description="Waits after the 1st, 2nd, … failed attempt of an email (4xx, no connection); the last repeats.")
    delivery_horizon_h: float = Field(48.0, gt=0, description="An email not delivered this many hours after its packet was made is given up, recorded and alerted.")
    ack_valid_days: int = Field(14, ge=1, description="How long a packet's acknowledgement link works.")
    ack_chase_after_h: float = Field(48.0, gt=0, description="A delivered packet not acknowledged after this many hours is chased once (催阅).")
    digest_schedule: str = Field("30 8 * * *", description="Cron expression, Asia/Shanghai, for the office's daily digest of the day before, inside `gateway run`/`api`; empty: never.")
    client_keys: str = Field("", description="keyid:secret[,keyid:secret…], added to the configuration file's clients.")
    require_services: bool = Field(False, description="Tests: a PostgreSQL/Redis/RabbitMQ that cannot be reached fails instead of skipping.")
    queue_prefix: str = Field("gateway", description="Prefix of queue names (RabbitMQ) and Redis keys; one per deployment.")
    max_body_bytes: int = Field(32 * 1024 * 1024, description="Largest accepted request body or upload (413 above).")
    body_timeout_s: float = Field(60.0, gt=0, description="How long a request body may take to arrive (408 after).")
    signature_window_s: int = Field(300, description="How far a request's timestamp may be from now.")
    accept_signature_v1: bool = Field(True, description="Accept signature v1 (sha256=…) beside v2; turn off once gateway_signatures_total{version=\"1\"} stays at 0.")
    command_center_signature: Literal["v1", "v2"] = Field("v1", description="How the gateway signs its calls to the command center (pull, feedback): v2 once it accepts v2.")
    metrics_token: str | None = Field(None, description="Bearer token for /metrics and the details of /readyz on the API port; unset: only from this host (127.0.0.1, ::1).")
    worker_threads: int = Field(4, description="Worker threads per worker process (in-process workers too).")
    normalize_processes: int | None = Field(None, ge=0, description="Helper processes that normalize a big chunk's records beside the worker (masking, "
                                            "classifying, MinHash: pure CPU work the threads of one process cannot share). Unset: one per core but one "
                                            "on the embedded default (in-process workers), none when a broker spreads chunks over worker processes.")
    retry_min_backoff_ms: int = Field(5_000, description="First retry delay of a failed pipeline step.")
    retry_max_backoff_ms: int = Field(30 * 60_000, description="Longest retry delay (FixMyStreet-like: then every 30 min).")
    retry_max_retries: int = Field(40, description="Retries of one step before it waits for the recovery sweep.")
    sweep_interval_s: int = Field(60, description="How often `gateway run`/`api` re-dispatches stalled work.")
    stalled_after_s: int = Field(600, description="Dispatched work not finished after this long is dispatched again.")
    poison_after: int = Field(3, ge=1, description="A report whose normalization or routing failed this many times (not for want of the database) is set aside: gateway reports list --stuck.")
    dead_letter_after: int = Field(5, ge=2, description="A pipeline step dispatched this many times and still not done counts as a dead letter (gateway_dead_letters).")
    metrics_port: int | None = Field(None, description="`gateway worker`: serve /metrics of this process on this port (one port per worker process).")
    log_format: Literal["text", "json"] = Field("text", description="json: one JSON object per log line, for a log collector.")
    keep_raw_payload: bool = Field(False, description="Keep the pushed records (with personal data) after normalization.")
    assign_early: bool | None = Field(None, description="Put a report's chunks into near-duplicate issues as they are normalized "
                                      "(gateway/pipeline/assign.py), not all at the start of routing. Default: on with PostgreSQL, "
                                      "where another worker's normalization goes on meanwhile; off with SQLite, whose one writer "
                                      "and one process leave nothing to overlap (100,000 records: 45.0 s off, 45.2 s on; docs/benchmarks.md).")
    log_level: str = Field("INFO")
    pull_url: str | None = Field(None, description="Base URL of the command center's pull API; unset: no nightly sync.")
    pull_key: str | None = Field(None, description="keyid:secret the gateway signs its pull requests with.")
    pull_client_id: str | None = Field(None, description="Whose reports the pulled ones are (idempotency with pushes); default the pull key id.")
    pull_page_size: int = Field(100, ge=1, le=1000, description="Reports asked for per page.")
    pull_schedule: str = Field("0 2 * * *", description="Cron expression, Asia/Shanghai, for the sync inside `gateway run`; empty: never.")
    pull_timeout_s: float = Field(30.0, description="How long one page request may take.")
    pull_max_attempts: int = Field(8, ge=1, description="Attempts per page before the sync gives up (and resumes next time).")
    pull_backoff_s: float = Field(1.0, gt=0, description="Base of the exponential backoff between attempts (full jitter, at most 60 s).")
    taxonomy_file: Path | None = Field(None, description="Category taxonomy CSV (一级分类,二级分类,三级分类); default: the bundled one.")
    gazetteer_file: Path | None = Field(None, description="Gazetteer YAML (district, streets and their communities); default: the bundled example district.")
    category_min_confidence: float = Field(0.5, ge=0, le=1, description="An inferred category below this confidence sends the work order to triage.")
    calendar_file: Path | None = Field(None, description="Holidays and make-up working days the chinese-calendar package does not know (YAML: holidays, workdays).")
    hall_name: str = Field("协商议事厅", description="Name in the titles of 附表1/附表2, e.g. 通州协商议事厅.")
    feedback_url: str | None = Field(None, description="Base URL for POST /api/v1/feedback; default GATEWAY_PULL_URL.")
    feedback_key: str | None = Field(None, description="keyid:secret the feedback push is signed with; default GATEWAY_PULL_KEY.")
    feedback_schedule: str = Field("0 9 1 * *", description="Cron expression, Asia/Shanghai, for pushing the previous month's feedback inside `gateway run`/`api`; empty: only on demand.")
    feedback_timeout_s: float = Field(30.0, gt=0, description="How long one feedback request may take.")
    feedback_max_attempts: int = Field(6, ge=1, description="Attempts of one feedback push before it waits for the next sweep.")
    feedback_backoff_s: float = Field(2.0, gt=0, description="Base of the exponential backoff between feedback attempts (full jitter, at most 60 s, never sooner than Retry-After).")
    drop_dir: Path | None = Field(None, description="Folder watched for report files by `gateway run`; unset: no drop folder.")
    drop_poll_s: float = Field(5.0, description="How often the drop folder is looked at.")
    drop_client_id: str = Field("drop-folder", description="Whose reports the dropped files are.")
    session_key: str | None = Field(None, description="Key of the office pages' encrypted session cookies (a Fernet key: 32 bytes, url-safe base64); "
                                                  "unset: <data_dir>/session.key, made on first use. Every API process of one deployment needs the same one.")
    session_hours: float = Field(8.0, gt=0, le=24 * 7, description="How long a login to the office's pages lasts.")

    @field_validator("delivery_retry_s")
    @classmethod
    def _retry_schedule(cls, value: str) -> str:
        try:
            waits = [int(part) for part in value.split(",")]
        except ValueError:
            raise ValueError(f"{value!r}: write seconds separated by commas, e.g. 60,300,900,1800") from None
        if not waits or any(w < 0 for w in waits):
            raise ValueError(f"{value!r}: at least one wait, none negative")
        return value

    @property
    def retry_waits_s(self) -> list[int]:
        return [int(part) for part in self.delivery_retry_s.split(",")]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'gateway.db').as_posix()}"

    @property
    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    def pull_credentials(self) -> tuple[str, str] | None:
        if not self.pull_url:
            return None
        key_id, sep, secret = (self.pull_key or "").partition(":")
        if not sep or not key_id or not secret:
            raise ConfigError("GATEWAY_PULL_URL is set but GATEWAY_PULL_KEY is not 'keyid:secret': the gateway signs its pull requests with it")
        return key_id, secret


ROLES = ("command_center", "workstation", "office")


class ClientKey(BaseModel):
    """A client of the API, its role and its live secrets (two during rotation).

    command_center: pushes reports and reads what it pushed (reports, their work
    orders and clues); workstation (with `workstation`): files Table 1s and reads
    its own Table 1s and supervision entries; office: everything the workstations
    may do, for every workstation, and reads every report.
    """

    model_config = ConfigDict(extra="forbid")

    key_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
    secrets: Annotated[list[Annotated[str, Field(min_length=16)]], Field(min_length=1, max_length=2)]
    revoked: bool = False
    name: str | None = None
    role: Literal["command_center", "workstation", "office"] | None = Field(
        None, description="command_center (the default), workstation (the default when `workstation` is set) or office.")
    workstation: str | None = Field(None, description="A workstation's key: it files and reads Table 1s of this workstation only.")

    @model_validator(mode="after")
    def _role(self) -> "ClientKey":
        if self.role is None:
            self.role = "workstation" if self.workstation else "command_center"
        if self.role == "workstation" and not self.workstation:
            raise ValueError(f"key {self.key_id!r} has role workstation: say which (workstation: 梨园镇委员工作站)")
        if self.role != "workstation" and self.workstation:
            raise ValueError(f"key {self.key_id!r} names a workstation but has role {self.role}: a workstation's key has role workstation")
        return self


class ScreeningPattern(BaseModel):
    """A text pattern (Python regular expression) that excludes a work order from consultation, with its reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Literal["unlawful", "secret", "litigation", "petition_assigned", "real_name_report", "discipline_inspection", "answered_personal", "unsuitable"]
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class ScreeningConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patterns: list[ScreeningPattern] = Field(default_factory=list, description="Added to the built-in patterns (gateway/pipeline/screening.py).")


class FileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(default_factory=dict)
    clients: list[ClientKey] = Field(default_factory=list)
    routing: Any = None
    screening: ScreeningConfig = Field(default_factory=ScreeningConfig)
    calendar: CalendarOverrides = Field(default_factory=CalendarOverrides)
    columns: dict[str, str] = Field(default_factory=dict, description=(
        "Another platform's column headers → the field each is read into (诉求描述: content, 事发街道: street), or ignore "
        "for a column that must not be read; beside the usual headers (gateway/intake/report_files.py HEADER_ALIASES)."))
    categories: dict[str, str] = Field(default_factory=dict, description=(
        "Another platform's category names → the taxonomy's (城管执法: 城乡建设), beside the bundled synonyms (gateway/pipeline/taxonomy.py)."))

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        ColumnNames(value)  # names a field that does not exist
        return value


@dataclass
class GatewayConfig:
    settings: Settings
    routing: RoutingConfig
    clients: dict[str, ClientKey] = field(default_factory=dict)
    screening: ScreeningConfig = field(default_factory=ScreeningConfig)
    calendar: CalendarOverrides = field(default_factory=CalendarOverrides)
    columns: ColumnNames = field(default_factory=ColumnNames)
    categories: dict[str, str] = field(default_factory=dict)


def parse_client_keys(value: str) -> list[ClientKey]:
    keys = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        key_id, sep, secret = item.partition(":")
        if not sep or not key_id or len(secret) < 16:
            raise ConfigError(
                f"GATEWAY_CLIENT_KEYS: {item.split(':')[0]!r} is not 'keyid:secret' with a secret of at least 16 characters"
            )
        keys.append(ClientKey(key_id=key_id, secrets=[secret]))
    return keys


def load_config(**overrides: Any) -> GatewayConfig:
    """Settings from the environment and the configuration file, routing, client keys."""
    try:
        env_only = Settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError, reported plainly
        raise ConfigError(f"settings are not valid: {exc}") from exc
    file_cfg = FileConfig()
    root = None
    path = env_only.config
    if path is None and Path("gateway.yaml").exists():
        path = Path("gateway.yaml")
    if path is not None:
        data, root = load_yaml(path)
        file_cfg = validate_at(FileConfig, data, path=path, root=root)
    try:
        settings = Settings(**{**file_cfg.settings, **overrides, "config": path})
    except Exception as exc:
        raise ConfigError(f"{path}: settings are not valid: {exc}") from exc

    if file_cfg.routing is None:
        routing = load_routing(bundled_routing_path())
    elif isinstance(file_cfg.routing, str):
        routing = load_routing((path.parent / file_cfg.routing) if path else Path(file_cfg.routing))
    else:
        routing = parse_routing(file_cfg.routing, path=path, root=root, prefix=("routing",))

    clients = {c.key_id: c for c in file_cfg.clients}
    for key in parse_client_keys(settings.client_keys):
        existing = clients.get(key.key_id)
        if existing and key.secrets[0] not in existing.secrets:
            existing.secrets = [*existing.secrets, key.secrets[0]][-2:]
        elif not existing:
            clients[key.key_id] = key
    calendar = file_cfg.calendar
    if settings.calendar_file is not None:
        from gateway.workdays import load_overrides

        extra = load_overrides(settings.calendar_file)
        calendar = CalendarOverrides(holidays=[*calendar.holidays, *extra.holidays], workdays=[*calendar.workdays, *extra.workdays])
    return GatewayConfig(settings=settings, routing=routing, clients=clients, screening=file_cfg.screening, calendar=calendar,
                         columns=ColumnNames(file_cfg.columns), categories=file_cfg.categories)
