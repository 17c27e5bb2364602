"""The garbage collector and the pipeline's long-lived objects.

A process that normalizes holds a few hundred thousand objects for its whole
life: jieba's dictionary as the masker reads it, the segmenter's and the
classifier's models, the taxonomy, the gazetteer, the caches of short fields.
Every full collection of the cyclic garbage collector walked all of them, and
a chunk's work orders, held until the chunk is written, set off a full
collection every few chunks: 39 µs of the 166 µs a generated record took to
normalize (10,000 records, one process). `gc.freeze()` moves what is alive to
a permanent generation that collections skip (objects there are still freed
when nothing refers to them; only a cycle among them would stay), so the
collector looks at what the work itself makes.

Routing makes a report's work orders (100,000 rows, a RoutedOrder each) and
holds them to the end: each full collection on the way walked all that were
made so far, 1.4 s of the 24.5 s that routing a 100,000-record report took
(gc callbacks, embedded default). So full collections rest while a report is
routed (`full_collections_paused`); the young generations are still
collected, as ever. Pausing the collector altogether (as from 4349ae9 to
2026-12-04) kept every cycle made on the way to the end of routing: each
statement SQLAlchemy builds is one (a band look-up's holds its 2,000 band
keys), and at a million records they were about 180 MiB of the peak.
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)
_settled = False
_lock = threading.Lock()
_paused = 0  # blocks inside full_collections_paused, in every thread of the process
_thresholds = gc.get_threshold()  # the collector's thresholds when the first of them began


def settle_once() -> None:
    """Once per process, after its first chunk has loaded what normalization keeps: collect, then freeze what is left."""
    global _settled
    if _settled:
        return
    with _lock:
        if _settled:
            return
        _settled = True
        started = time.perf_counter()
        gc.collect()
        gc.freeze()
        log.debug("%d long-lived objects set apart from the garbage collector in %.2f s", gc.get_freeze_count(), time.perf_counter() - started)


FULL_NEVER = 2**31 - 1  # the collector's third threshold: no full collection while it is in place


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """No full collection of the cyclic garbage collector while the block runs (in any thread: the collector is the
    process's); the young generations are collected as ever, so that cycles which die young are freed. Blocks may
    overlap (two threads routing): the thresholds come back when the last one ends. Also a decorator
    (`@full_collections_paused()`): a pause per call."""
    global _paused, _thresholds
    with _lock:
        if _paused == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(_thresholds[0], _thresholds[1], FULL_NEVER)
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0:
                gc.set_threshold(*_thresholds)
