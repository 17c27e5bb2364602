"""Big chunks normalized in helper processes beside the worker: the same result as in one process, whatever a helper does."""
from __future__ import annotations

import logging
import os
import signal
from typing import Any

import pytest

from gateway.bootstrap import normalize_processes
from gateway.pipeline.classifier import CategoryClassifier
from gateway.pipeline.gazetteer import Gazetteer
from gateway.pipeline.normalize import POOL_MIN_RECORDS, Normalizer
from gateway.pipeline.taxonomy import Taxonomy
from tests.helpers.reports import record


def _normalizer(processes: int) -> Normalizer:
    return Normalizer(taxonomy=Taxonomy.load(), gazetteer=Gazetteer.load(), classifier=CategoryClassifier.load(), citizen_secret=b"k",
                      processes=processes)


def _chunk(n: int) -> list[dict[str, Any]]:
    texts = ["云景里小区门口道路积水严重，一下雨就没过脚踝。", "孩子所在小学的老师违规补课收费", "我叫赵丽华，电话13912345678，小区路灯不亮"]
    return [record(f"T-{i:05d}", content=f"{texts[i % 3]}第{i}次反映。", category=[] if i % 2 else ("城乡建设",)) for i in range(n)]


@pytest.fixture(scope="module")
def alone() -> Normalizer:
    return _normalizer(0)


@pytest.fixture(scope="module")
def chunk(alone: Normalizer) -> tuple[list[dict[str, Any]], list[Any]]:
    raw = _chunk(POOL_MIN_RECORDS + 201)
    return raw, alone.records(raw)


def test_a_big_chunk_normalized_with_a_helper_process_is_what_one_process_gives(chunk: tuple[list[dict[str, Any]], list[Any]]) -> None:
    raw, expected = chunk
    helped = _normalizer(1)
    try:
        assert helped.records(raw) == expected
        assert helped._pool is not None and len(helped._pool._processes) == 1  # it did use a helper
        assert expected[2][0].content_masked.startswith("我叫赵某某，电话139****5678") and len(expected) == len(raw)
    finally:
        helped.close()
    assert helped._pool is None


def test_a_helper_killed_costs_the_chunk_nothing_and_the_next_chunk_gets_a_new_one(chunk: tuple[list[dict[str, Any]], list[Any]],
                                                                                   caplog: pytest.LogCaptureFixture) -> None:
    raw, expected = chunk
    helped = _normalizer(1)
    try:
        assert helped.records(raw) == expected
        (pid,) = list(helped._pool._processes)  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        with caplog.at_level(logging.WARNING):
            assert helped.records(raw) == expected
        assert any("helper process died" in r.getMessage() for r in caplog.records)
        assert helped.records(raw) == expected
        assert list(helped._pool._processes) != [pid]  # type: ignore[union-attr]
    finally:
        helped.close()


def test_a_small_chunk_stays_in_this_process() -> None:
    helped = _normalizer(1)
    helped.records(_chunk(3))
    assert helped._pool is None


def test_helpers_by_default_only_where_workers_run_in_process() -> None:
    cores = os.cpu_count() or 1
    assert normalize_processes(None, embedded=True) == max(0, cores - 1)
    assert normalize_processes(None, embedded=False) == 0
    assert normalize_processes(3, embedded=False) == 3 and normalize_processes(0, embedded=True) == 0
