"""Prometheus metrics of one gateway process (a registry per Gateway, so tests stay independent)."""
from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reports = Counter("gateway_reports_received_total", "Reports accepted, by client and kind.", ["client", "kind"], registry=self.registry)
        self.records = Counter("gateway_records_total", "Records by outcome at intake.", ["outcome"], registry=self.registry)
        self.sweep_failures = Counter("gateway_sweep_failures_total", "Items a sweep could not handle (logged; the sweep went on with the others), by task.", ["task"], registry=self.registry)
        self.signatures = Counter("gateway_signatures_total", "Signed requests accepted, by signature version (v1 can be turned off when its count stays 0).", ["version"], registry=self.registry)
        self.requests_rejected = Counter("gateway_requests_rejected_total", "Requests refused, by HTTP status.", ["status"], registry=self.registry)
        self.stages = Counter("gateway_pipeline_steps_total", "Pipeline steps finished, by stage.", ["stage"], registry=self.registry)
        self.delivery = Counter("gateway_deliveries_total", "Packet deliveries by result.", ["result"], registry=self.registry)
        self.intake_seconds = Histogram("gateway_intake_seconds", "Time from request to durable receipt.", registry=self.registry)
        self.sync_runs = Counter("gateway_sync_runs_total", "Pull sync runs by outcome.", ["source", "outcome"], registry=self.registry)
        self.sync_failures = Counter("gateway_sync_failures_total", "Pull sync failures: permanent (a 4xx) or gave_up (retries spent).", ["source", "reason"], registry=self.registry)
        self.sync_pages = Counter("gateway_sync_pages_total", "Pages stored by the pull sync.", ["source"], registry=self.registry)
        self.sync_reports = Counter("gateway_sync_reports_total", "Reports seen by the pull sync, by outcome.", ["source", "outcome"], registry=self.registry)
        self.sync_last_success = Gauge("gateway_sync_last_success_timestamp_seconds", "When the pull sync last finished.", ["source"], registry=self.registry)
        self.categories = Counter("gateway_categories_total", "Work orders whose category was outside the taxonomy (unmapped) or inferred from the text.", ["outcome"], registry=self.registry)
        self.acknowledgements = Counter("gateway_packet_acknowledgements_total", "Packets whose receipt a committee confirmed.", registry=self.registry)
        self.unacknowledged = Gauge("gateway_packets_unacknowledged_overdue", "Delivered packets not acknowledged within GATEWAY_ACK_CHASE_AFTER_H.", registry=self.registry)
        self.chases = Counter("gateway_packet_chases_total", "Reminders (催阅) sent for packets not acknowledged in time.", registry=self.registry)
        self.notices = Counter("gateway_notices_total", "The gateway's own emails (daily digest, reminders) by kind and result.", ["kind", "result"], registry=self.registry)
        self.urges = Counter("gateway_urges_total", "Reminders sent: a missing Table 1 (催报) or an overdue supervision entry (催办).", ["reason"], registry=self.registry)
        self.table1_received = Counter("gateway_table1_received_total", "Table 1s received (first filing), on time or late.", ["timeliness"], registry=self.registry)
        self.table1 = Gauge("gateway_table1", "Table 1s by state: due (announced, not yet due), missing (past due), on_time, late.", ["state"], registry=self.registry)
        self.supervision = Gauge("gateway_supervision_entries", "Supervision entries (督办) open, and of them overdue.", ["state"], registry=self.registry)
        self.calendar_fallback = Counter("gateway_calendar_fallback_days_total", "Days decided Monday–Friday because the official calendar of their year is unknown.", ["year"], registry=self.registry)
        self.feedback = Counter("gateway_feedback_pushes_total", "Feedback pushes to the command center by result: sent, retry, failed.", ["result"], registry=self.registry)
        self.feedback_last_success = Gauge("gateway_feedback_last_success_timestamp_seconds", "When a feedback document last reached the command center.", registry=self.registry)
        latency = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
        self.received_to_routed = Histogram("gateway_received_to_routed_seconds", "From a report's receipt to its clues and packets made.", ["kind"], buckets=latency, registry=self.registry)
        self.routed_to_delivered = Histogram("gateway_routed_to_delivered_seconds", "From a report's packets made to the last one delivered.", ["kind"], buckets=latency, registry=self.registry)
        self.urgent_to_delivered = Histogram("gateway_urgent_received_to_delivered_seconds", "From an urgent report's receipt to its packet delivered (SLA: 10 minutes).", buckets=latency, registry=self.registry)
        self.clues = Counter("gateway_clues_total", "Clues made, by committee and type (triage: unroutable, for the office).", ["committee", "type"], registry=self.registry)
        self.triage_waiting = Gauge("gateway_triage_clues_waiting", "Unroutable clues in packets to the office not yet acknowledged.", registry=self.registry)
        self.queue_depth = Gauge("gateway_queue_depth", "Pipeline steps accepted and not finished, per queue (from the outbox: the same whatever the broker).", ["queue"], registry=self.registry)
        self.queue_age = Gauge("gateway_queue_oldest_message_age_seconds", "Age of the oldest unfinished pipeline step, per queue.", ["queue"], registry=self.registry)
        self.set_aside = Counter("gateway_reports_set_aside_total", "Reports set aside (state stuck) after repeated failures, by stage: poison messages.", ["stage"], registry=self.registry)
        self.stuck = Gauge("gateway_reports_stuck", "Reports set aside and not retried yet (gateway reports list --stuck).", registry=self.registry)
        self.dead_letters = Gauge("gateway_dead_letters", "Pipeline steps dispatched at least GATEWAY_DEAD_LETTER_AFTER times and still not done: they need an operator.", registry=self.registry)
        self.worker_messages = Counter("gateway_worker_messages_total", "Queue messages handled by this process's dramatiq workers, by actor and result.", ["actor", "result"], registry=self.registry)
        self.worker_seconds = Histogram("gateway_worker_message_duration_seconds", "How long an actor took per message.", ["actor"],
                                        buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900), registry=self.registry)
        self.worker_in_progress = Gauge("gateway_worker_messages_in_progress", "Messages being handled now by this process.", ["actor"], registry=self.registry)
        self.urgent_waiting = Gauge("gateway_urgent_undelivered_oldest_age_seconds", "Age of the oldest urgent report whose packet is not delivered yet (0: none).", registry=self.registry)
        self.feedback_documents = Gauge("gateway_feedback_documents", "Monthly feedback documents by state: pending (not landed yet), failed (refused, waiting for an operator).", ["state"], registry=self.registry)
        self.files = Counter("gateway_drop_files_total", "Drop-folder files by outcome.", ["outcome"], registry=self.registry)

    def normalized(self, summary: Any) -> None:
        for reason, n in summary.excluded.items():
            self.records.labels(f"excluded_{reason}").inc(n)
        self.records.labels("duplicate_exact").inc(summary.duplicates)
        self.categories.labels("unmapped").inc(summary.unmapped)
        self.categories.labels("inferred").inc(summary.inferred)

    def stage_done(self, stage: str) -> None:
        self.stages.labels(stage).inc()

    def deliveries(self, outcome: Any) -> None:
        """One delivery step: emails accepted by the server, given up (permanent or past the horizon), to be retried."""
        if outcome.waiting == 0:
            self.delivery.labels("sent").inc(outcome.sent)
        self.delivery.labels("failed").inc(outcome.failed_now)
        if outcome.attempted and outcome.waiting:
            self.delivery.labels("retry").inc(outcome.waiting)

    def routed(self, summary: Any) -> None:
        if summary.routed_at is None:
            return  # nothing was routed (a redelivered message)
        self.records.labels("duplicate_near").inc(summary.near_duplicates)
        for (committee, kind), n in summary.clues.items():
            self.clues.labels(committee, kind).inc(n)
        if summary.received_at is not None:
            self.received_to_routed.labels(summary.kind).observe((summary.routed_at - summary.received_at).total_seconds())
        if summary.delivered_at is not None:
            self.report_delivered(summary)

    def report_delivered(self, times: Any) -> None:
        self.routed_to_delivered.labels(times.kind).observe((times.delivered_at - times.routed_at).total_seconds())
        if times.kind == "urgent":
            self.urgent_to_delivered.observe((times.delivered_at - times.received_at).total_seconds())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
