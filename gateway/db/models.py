"""Tables of the system of record: reports, work orders, clues, packets, deliveries, outbox."""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as naive UTC, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Report(Base):
    """A report as received (周报/月报/快报/专报/突发), with its pipeline state."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("client_id", "report_id", name="uq_reports_client_report"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str] = mapped_column(String(128))
    receipt_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    issued_at: Mapped[datetime | None]
    body_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[list[Any] | None] = mapped_column(JSON, doc="Unused since chunks (report_chunks) hold the records.")
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    chunks_normalized: Mapped[int] = mapped_column(Integer, default=0)
    chunks_assigned: Mapped[int] = mapped_column(Integer, default=0, doc="Chunks whose work orders issue assignment has taken (gateway.pipeline.assign).")
    near_duplicates: Mapped[int] = mapped_column(Integer, default=0, doc="Work orders that joined an issue already there, counted as chunks are assigned.")
    record_count: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="received")
    source: Mapped[str] = mapped_column(String(16), default="push", doc="push, upload, pull, drop or import.")
    categories_unmapped: Mapped[int] = mapped_column(Integer, default=0, doc="Records whose category had levels outside the taxonomy.")
    categories_inferred: Mapped[int] = mapped_column(Integer, default=0, doc="Records whose category the classifier inferred.")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    normalized_at: Mapped[datetime | None]
    routed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0, doc="Failed attempts of its current step (not counting a database or broker away).")
    last_error: Mapped[str | None] = mapped_column(Text, doc="Why the last attempt failed.")
    stuck_at: Mapped[datetime | None] = mapped_column(doc="When it was set aside (state stuck) after too many failures.")
    state_before_stuck: Mapped[str | None] = mapped_column(String(16), doc="The state to go back to when an operator retries it.")


class WorkOrder(Base):
    """One hotline work order (工单), one row per ticket whatever the number of reports it came in."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[list[Any]] = mapped_column(JSON, default=list)
    category_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    category_confidence: Mapped[float | None] = mapped_column(Float)
    district: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(200))
    community: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    content_masked: Mapped[str] = mapped_column(Text)
    caller_masked: Mapped[str | None] = mapped_column(String(200))
    caller_key: Mapped[str | None] = mapped_column(String(64), doc="Keyed hash of the phone: counts citizens without keeping the number.")
    handling_unit: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(32))
    satisfaction: Mapped[str | None] = mapped_column(String(32))
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    excluded_reason: Mapped[str | None] = mapped_column(String(64))
    committee_id: Mapped[str | None] = mapped_column(String(64), doc="Where routing sent it, whether or not its issue became a clue.")
    issue_pk: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    topic_pk: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True, doc="The matter at a place it belongs to (gateway/topics).")
    likes: Mapped[int] = mapped_column(Integer, default=0, doc="Support the source counted: a message board's likes (点赞数).")
    repeat_count: Mapped[int] = mapped_column(Integer, default=0, doc="重复反映告知单量 of a 12345 export: how often it was reported again.")
    status_issued_at: Mapped[datetime | None] = mapped_column(doc="Issue time of the report the current status came from.")
    ticket_type: Mapped[str | None] = mapped_column(String(32), doc="request, complaint, suggestion, help, report, praise, inquiry (咨询) or other.")
    result_masked: Mapped[str | None] = mapped_column(Text, doc="处理结果, masked.")
    closed_at: Mapped[datetime | None] = mapped_column(doc="办结时间 as the export gave it.")
    time_limit_days: Mapped[float | None] = mapped_column(Float, doc="处理时限 in days.")
    company: Mapped[str | None] = mapped_column(String(200), doc="企业名称: the business the work order is about.")
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReportWorkOrder(Base):
    """A work order's appearance in a report, and what became of it there."""

    __tablename__ = "report_work_orders"
    __table_args__ = (
        UniqueConstraint("report_pk", "work_order_pk", name="uq_report_work_order"),
        Index("ix_rwo_work_order", "work_order_pk"),
        Index("ix_rwo_report_record", "report_pk", "record_index"),  # routing reads a report's work orders in record order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    work_order_pk: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    record_index: Mapped[int] = mapped_column(Integer)
    content_index: Mapped[int] = mapped_column(Integer, default=0, doc="The record whose text the work order holds (the last of its duplicates).")
    seen_before: Mapped[bool] = mapped_column(Boolean, default=False, doc="Already known from an earlier report.")
    excluded_reason: Mapped[str | None] = mapped_column(String(64))
    clue_pk: Mapped[int | None] = mapped_column(ForeignKey("clues.id"))

    work_order: Mapped[WorkOrder] = relationship()


class Clue(Base):
    """A clue (线索) for a committee: a group of work orders about one matter."""

    __tablename__ = "clues"

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[str] = mapped_column(String(40), unique=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    committee_id: Mapped[str] = mapped_column(String(64))
    clue_type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(300), default="", doc="Why this type, in the office's words.")
    score: Mapped[float] = mapped_column(Float, default=0.0, doc="How concentrated and strongly felt (docs/decisions.md).")
    triage: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[list[Any]] = mapped_column(JSON)
    work_order_count: Mapped[int] = mapped_column(Integer)
    citizen_count: Mapped[int] = mapped_column(Integer)
    issue_count: Mapped[int] = mapped_column(Integer, default=0, doc="Distinct issues (near-duplicates counted once).")
    places: Mapped[list[Any]] = mapped_column(JSON)
    period_label: Mapped[str] = mapped_column(String(100))
    trend: Mapped[str] = mapped_column(String(100))
    samples: Mapped[list[Any]] = mapped_column(JSON)
    ticket_nos: Mapped[list[Any]] = mapped_column(JSON)
    workstations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    topic_pk: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list, doc="The matter's words, strongest first.")
    named_places: Mapped[list[Any]] = mapped_column(JSON, default=list, doc="Estates, villages, roads, schools, companies the texts name, with counts.")
    first_received_at: Mapped[datetime | None] = mapped_column(doc="The time span of its work orders.")
    last_received_at: Mapped[datetime | None] = mapped_column()
    likes: Mapped[int] = mapped_column(Integer, default=0, doc="Likes and repeat counts of its work orders, summed.")
    rank: Mapped[int] = mapped_column(Integer, default=0, doc="1 = the hottest clue of its report.")
    shared_with: Mapped[list[Any]] = mapped_column(JSON, default=list, doc="Other committees a part of the topic belongs to.")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Topic(Base):
    """A matter at a place (议题), continued from report to report: what clues are made of."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    keywords: Mapped[dict[str, Any]] = mapped_column(JSON, doc="Matter words and their weights (the centroid later work orders are compared with).")
    places: Mapped[list[Any]] = mapped_column(JSON, doc="Place keys it names.")
    district: Mapped[str | None] = mapped_column(String(100))
    work_order_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class TopicTerm(Base):
    """The persistent index of topics by their places and strongest words: how a new cluster finds the topic it continues."""

    __tablename__ = "topic_terms"

    term: Mapped[str] = mapped_column(String(120), primary_key=True)
    topic_pk: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True)


class Packet(Base):
    """A clue packet (线索包): one email to one committee for one batch."""

    __tablename__ = "packets"
    __table_args__ = (UniqueConstraint("report_pk", "committee_id", name="uq_packet_report_committee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    packet_id: Mapped[str] = mapped_column(String(40), unique=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    committee_id: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    location: Mapped[str | None] = mapped_column(String(500), doc="Where it went: smtp://… or the .eml path.")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None] = mapped_column(doc="When the committee confirmed receipt (the signed link).")
    chased_at: Mapped[datetime | None] = mapped_column(doc="When the one reminder (催阅) for an unacknowledged packet went out.")


class PacketClue(Base):
    __tablename__ = "packet_clues"

    packet_pk: Mapped[int] = mapped_column(ForeignKey("packets.id"), primary_key=True)
    clue_pk: Mapped[int] = mapped_column(ForeignKey("clues.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    copy: Mapped[bool] = mapped_column(Boolean, default=False, doc="Sent in copy (提案委 gets every 提案线索).")


class Delivery(Base):
    """One recipient's copy of a packet; written before and after each send."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("packet_pk", "recipient", name="uq_delivery_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    packet_pk: Mapped[int] = mapped_column(ForeignKey("packets.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None] = mapped_column(doc="A retry waits until then (the delivery schedule).")


class DeliveryLog(Base):
    """The send log: a row written before each attempt and completed after it."""

    __tablename__ = "delivery_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    result: Mapped[str] = mapped_column(String(16), default="sending", doc="sending, sent, retry, failed, unconfirmed (crashed mid-send).")
    detail: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """A mail of the gateway's own to the office or a committee: the daily digest, a reminder.

    The message is stored as sent, so a send interrupted by a crash goes out
    again byte for byte, with the same Message-ID.
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, doc="digest:2026-11-23, chase:P000001-urban: at most one each.")
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    recipients: Mapped[list[Any]] = mapped_column(JSON)
    message_id: Mapped[str] = mapped_column(String(200))
    message: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """A queue message written in the same transaction as the state it refers to.

    Sent to the broker only after commit; marked done by the actor in the
    transaction that does the work. Anything not done is dispatched again at
    start and by the sweep, so a crash loses nothing.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("actor", "dedup_key", name="uq_outbox_actor_key"),
        Index("ix_outbox_pending", "done_at", "dispatched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]


class SeenSignature(Base):
    """Signatures accepted within the replay window (shared by every API process)."""

    __tablename__ = "seen_signatures"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class GatewayMeta(Base):
    """Small facts every process of one deployment must share (e.g. the citizen-hash key)."""

    __tablename__ = "gateway_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncCursor(Base):
    """Where the nightly pull of one source stands; advanced only with the page it follows."""

    __tablename__ = "sync_cursors"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncRun(Base):
    """One run of `gateway sync`: a recorded job."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), default="running", doc="running, finished or failed.")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    pages: Mapped[int] = mapped_column(Integer, default=0)
    reports: Mapped[int] = mapped_column(Integer, default=0, doc="New reports stored.")
    duplicates: Mapped[int] = mapped_column(Integer, default=0, doc="Reports already received (re-delivered pages).")
    records: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[list[Any]] = mapped_column(JSON, default=list, doc="Reports refused, with why.")
    error: Mapped[str | None] = mapped_column(Text)


class ImportedFile(Base):
    """A report file taken in (drop folder or `gateway import`), by content hash, so it is imported once."""

    __tablename__ = "imported_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[str | None] = mapped_column(String(128))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class Issue(Base):
    """Near-identical work orders about one problem (many citizens, one matter): found by MinHash over the text."""

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[list[Any]] = mapped_column(JSON, default=list)
    street: Mapped[str | None] = mapped_column(String(200))
    community: Mapped[str | None] = mapped_column(String(200))
    signature: Mapped[list[Any]] = mapped_column(JSON, doc="MinHash of the first work order: what later ones are compared with.")
    work_order_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class IssueAssignment(Base):
    """The issue assignment gave a work order of a report not yet routed; routing writes it to the work order and removes it.

    A narrow table of its own, not work_orders.issue_pk at once: on PostgreSQL a second update of the wide work-order
    rows (with its index and foreign key) cost more than the assignment itself.
    """

    __tablename__ = "issue_assignments"

    work_order_pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    issue_pk: Mapped[int] = mapped_column(Integer)


class IssueBand(Base):
    """The persistent LSH index: one row per band of an issue's signature."""

    __tablename__ = "issue_bands"

    band: Mapped[str] = mapped_column(String(40), primary_key=True)
    issue_pk: Mapped[int] = mapped_column(ForeignKey("issues.id"), primary_key=True)


class ReportChunk(Base):
    """A slice of a report's validated records, normalized on its own (bounded memory, several workers)."""

    __tablename__ = "report_chunks"
    __table_args__ = (UniqueConstraint("report_pk", "seq", name="uq_report_chunk"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    first_index: Mapped[int] = mapped_column(Integer, doc="Position of the chunk's first record in the report.")
    record_count: Mapped[int] = mapped_column(Integer)
    records: Mapped[list[Any] | None] = mapped_column(JSON, doc="Validated records (personal data) until normalized, unless kept by configuration.")
    repeated_later: Mapped[list[int] | None] = mapped_column(JSON, doc="Indices of its records whose ticket a later chunk has again: "
                                                             "issue assignment leaves those to the last one (gateway.intake.receive.repeated_later).")
    signatures: Mapped[bytes | None] = mapped_column(LargeBinary, doc="What issue assignment needs of the chunk's work orders, "
                                                     "from its normalization until it is assigned (gateway.pipeline.assign.pack_signatures).")
    normalized_at: Mapped[datetime | None]


class Consultation(Base):
    """A consultation activity and its current Table 1 (附表1); earlier versions in consultation_revisions."""

    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("workstation", "activity_key", name="uq_consultation_activity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[str] = mapped_column(String(40), unique=True)
    workstation: Mapped[str] = mapped_column(String(200))
    activity_key: Mapped[str] = mapped_column(String(400), doc="activity_id, or date|topic when none was given.")
    client_id: Mapped[str] = mapped_column(String(64))
    committee_id: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    activity_date: Mapped[date] = mapped_column(Date, index=True)
    topic: Mapped[str] = mapped_column(String(300))
    planned: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    due_on: Mapped[date] = mapped_column(Date)
    calendar_official: Mapped[bool] = mapped_column(Boolean, default=True)
    received_at: Mapped[datetime | None] = mapped_column(doc="When the first Table 1 with items arrived.")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    chased_at: Mapped[datetime | None] = mapped_column(doc="When a missing Table 1 was chased (催报).")


class ConsultationRevision(Base):
    __tablename__ = "consultation_revisions"
    __table_args__ = (UniqueConstraint("consultation_pk", "revision", name="uq_consultation_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_pk: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsultationItem(Base):
    """An item of the current revision, with its checked links to clues and work orders."""

    __tablename__ = "consultation_items"
    __table_args__ = (UniqueConstraint("consultation_pk", "seq", name="uq_consultation_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_pk: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    clue_ids: Mapped[list[Any]] = mapped_column(JSON)
    ticket_nos: Mapped[list[Any]] = mapped_column(JSON, doc="Named directly, plus those behind the named clues.")


class Supervision(Base):
    """督办: an item not resolved on site, followed until it is done (seed 002's sheet)."""

    __tablename__ = "supervisions"
    __table_args__ = (UniqueConstraint("consultation_pk", "item_seq", name="uq_supervision_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supervision_id: Mapped[str] = mapped_column(String(40), unique=True)
    consultation_pk: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    item_seq: Mapped[int] = mapped_column(Integer)
    suggestion: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    committee_id: Mapped[str] = mapped_column(String(64))
    assigned_unit: Mapped[str | None] = mapped_column(String(200))
    supervisor: Mapped[str | None] = mapped_column(String(100))
    progress: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    way_forward: Mapped[str | None] = mapped_column(Text)
    reporting_department: Mapped[str | None] = mapped_column(String(200))
    reporting_date: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="open", doc="open, done, withdrawn (the item changed in a revision).")
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
    chased_at: Mapped[datetime | None]


class FeedbackPush(Base):
    """The month's feedback document to the command center, as pushed (INTEGRATION.md section 3)."""

    __tablename__ = "feedback_pushes"
    __table_args__ = (UniqueConstraint("month", "revision", name="uq_feedback_month_revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    revision: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="pending", doc="pending, sent, failed (a permanent refusal).")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class User(Base):
    """A person who signs in to the office's pages (/office/): the office, a committee or a workstation (docs/office.md)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16), doc="office, committee or workstation.")
    committee_id: Mapped[str | None] = mapped_column(String(64), doc="A committee user's committee (an id of the routing configuration).")
    workstation: Mapped[str | None] = mapped_column(String(200), doc="A workstation user's workstation (a name of the routing configuration).")
    password_hash: Mapped[str] = mapped_column(String(200), doc="argon2id, with its parameters and salt.")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, doc="Raised at logout and disable: every earlier session of the user stops working.")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what and when on the office's pages and to their accounts: logins (and failed ones), acknowledgements, notes, users."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_action_at", "action", "at"), Index("ix_audit_target", "target"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str | None] = mapped_column(String(64), doc="Who: the user (for a failed login, the name that was tried); cli:<os user> for the command line.")
    action: Mapped[str] = mapped_column(String(32), doc="login, login_failed, login_throttled, logout, acknowledge, note, user_add, user_disable.")
    target: Mapped[str | None] = mapped_column(String(100), doc="What: a clue id, a packet id, a username.")
    address: Mapped[str | None] = mapped_column(String(64), doc="The client's address, for logins.")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ClueForward(Base):
    """转交: a clue forwarded by the office or a committee to one of the committee's workstations, with a note (docs/office.md)."""

    __tablename__ = "clue_forwards"
    __table_args__ = (UniqueConstraint("clue_pk", "workstation", name="uq_clue_forward"), Index("ix_clue_forward_workstation", "workstation"))

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_pk: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    workstation: Mapped[str] = mapped_column(String(200), doc="A workstation name of the routing configuration.")
    committee_id: Mapped[str] = mapped_column(String(64), doc="The committee whose workstation it is.")
    note: Mapped[str] = mapped_column(Text, default="", doc="Masked (mask_text) before it is stored.")
    username: Mapped[str] = mapped_column(String(64), doc="Who forwarded it.")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarterTopic(Base):
    """季度议题 (seed 003): a clue the office marked as one of a quarter's 5 preliminary topics (初步议题), and maybe one of its 2 final ones."""

    __tablename__ = "quarter_topics"
    __table_args__ = (UniqueConstraint("quarter", "clue_pk", name="uq_quarter_topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(7), index=True, doc="2026-Q4.")
    clue_pk: Mapped[int] = mapped_column(ForeignKey("clues.id"))
    topic_pk: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), doc="The clue's topic, whose activities and volume the page follows.")
    note: Mapped[str] = mapped_column(Text, default="", doc="Why it was chosen (masked); required for a final topic.")
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    final_by: Mapped[str | None] = mapped_column(String(64))
    final_at: Mapped[datetime | None]


class ResultEvaluation(Base):
    """评 (seed 004): the office's evaluation of what the consultation on a clue achieved, and whether /public/results shows it."""

    __tablename__ = "result_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_pk: Mapped[int] = mapped_column(ForeignKey("clues.id"), unique=True)
    rating: Mapped[str] = mapped_column(String(16), doc="effective (成效明显), partial (初见成效) or none (尚未见效).")
    text: Mapped[str] = mapped_column(Text, doc="The evaluation, masked (mask_text) before it is stored.")
    evaluated_by: Mapped[str] = mapped_column(String(64))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None]
