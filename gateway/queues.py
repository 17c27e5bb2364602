"""The pipeline's messages, by name: one queue per stage, each `<GATEWAY_QUEUE_PREFIX>.<name>`.

An outbox row names one of these; the actors of `workers.actors` are declared
under the same names, and `gateway worker` consumes their queues.
"""
from __future__ import annotations

NORMALIZE = "normalize_report"  # a chunk of a stored report: mask, screen, classify (gateway.pipeline.normalize)
ROUTE = "route_report"  # a normalized report: issues, topics, clues, packets (gateway.pipeline.route)
DELIVER = "deliver_packet"  # a packet: email it to each recipient (gateway.delivery.send)
# Urgent reports (突发性重点问题) have queues of their own, read before the others: a packet within the minute even while a
# month of a million records is being normalized. The same handlers serve both.
URGENT = {NORMALIZE: "normalize_urgent", ROUTE: "route_urgent", DELIVER: "deliver_urgent"}
STAGES = (NORMALIZE, ROUTE, DELIVER, *URGENT.values())


def for_kind(stage: str, kind: str | None) -> str:
    """The queue a report's step goes to: its urgent one for an urgent report."""
    return URGENT[stage] if kind == "urgent" else stage


def queue_name(prefix: str, stage: str) -> str:
    """The broker queue of a stage, e.g. `gateway.route_report`."""
    return f"{prefix}.{stage}"
