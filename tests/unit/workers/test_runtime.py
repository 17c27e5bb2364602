"""The worker runtime: a worker for the ordinary queues and one of its own for the urgent queues."""
from __future__ import annotations

import logging

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from gateway.queues import NORMALIZE, URGENT
from workers.runtime import WorkerRuntime


def test_the_urgent_queues_have_a_worker_of_their_own_and_starting_both_warns_of_nothing(caplog: pytest.LogCaptureFixture) -> None:
    broker = StubBroker()
    ordinary = dramatiq.actor(lambda: None, actor_name=NORMALIZE, queue_name="normalize", broker=broker)
    urgent = dramatiq.actor(lambda: None, actor_name=URGENT[NORMALIZE], queue_name="normalize_urgent", broker=broker)
    runtime = WorkerRuntime(broker, [ordinary, urgent], threads=3)
    with caplog.at_level(logging.DEBUG):
        runtime.start()
        runtime.stop()
    assert [(w.worker_threads, set(w.consumer_whitelist or ())) for w in runtime.workers] == [(3, {"normalize"}), (1, {"normalize_urgent"})]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]
