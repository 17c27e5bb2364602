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
(gc callbacks, embedded default). Hardly any of it is cyclic garbage (what it
drops, reference counting frees at once: the collector found 122 objects in all
while 10,000 records were routed), so it rests while a report is routed
(`collector_paused`).
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
_paused = 0  # blocks inside collector_paused, in every thread of the process
_resume = True  # whether the collector was enabled when the first of them began


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


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the block runs (in any thread: the collector is the process's); reference
    counting frees as ever. Blocks may overlap (two threads routing): the collector resumes when the last one ends,
    and only if it was enabled before the first began. Also a decorator (`@collector_paused()`): a pause per call."""
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()
