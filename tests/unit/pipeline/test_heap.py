"""The pipeline and the garbage collector (gateway/pipeline/heap.py): long-lived objects set apart once per process, full collections paused while a report is routed.

Each check runs in a fresh interpreter: the freeze is process-wide and happens once.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_what_is_alive_is_frozen_once_and_what_comes_later_stays_collectable() -> None:
    out = _run("""
        import gc
        from gateway.pipeline.heap import settle_once
        kept = [[i] for i in range(5000)]
        assert gc.get_freeze_count() == 0
        settle_once()
        first = gc.get_freeze_count()
        later = [[i] for i in range(5000)]
        settle_once()
        print(first >= 5000, gc.get_freeze_count() == first)
    """)
    assert out == "True True"


def test_normalizing_a_first_part_freezes_the_models_it_loaded(tmp_path: Path) -> None:
    out = _run(f"""
        import gc
        from pathlib import Path
        from gateway.bootstrap import bootstrap
        from gateway.pipeline.normalize import _normalize_part
        gateway = bootstrap(data_dir=Path({str(tmp_path)!r}), database_url="sqlite:///{tmp_path}/g.db")
        before = gc.get_freeze_count()
        record = {{"ticket_no": "T1", "received_at": "2026-11-02T09:00:00", "content": "我叫王建国，小区噪音扰民，电话13812345678"}}
        (normalized, packed), = _normalize_part(gateway.normalizer, [record])
        print(before, gc.get_freeze_count() > 100_000, normalized.content_masked)
        gateway.close()
    """)
    assert out == "0 True 我叫王某某，小区噪音扰民，电话138****5678"


# What a block sees of the collector: (full collections off, the collector enabled) as a string.
_STATE = "def state(): return f'{gc.get_threshold()[2] == FULL_NEVER}/{gc.isenabled()}'"


def test_full_collections_rest_while_blocks_run_and_come_back_after_the_last_one() -> None:
    out = _run(f"""
        import gc, threading
        from gateway.pipeline.heap import FULL_NEVER, full_collections_paused
        {_STATE}
        seen = [gc.get_threshold()]
        first_in, second_done = threading.Event(), threading.Event()
        def other():
            with full_collections_paused():
                first_in.set()
                second_done.wait(10)
                seen.append(state())  # the other block ended: still paused while this one runs
            seen.append(state())
        t = threading.Thread(target=other)
        t.start()
        first_in.wait(10)
        with full_collections_paused():
            seen.append(state())
        second_done.set()
        t.join(10)
        seen.append(gc.get_threshold())
        print(seen)
    """)
    assert out == "[(700, 10, 10), 'True/True', 'True/True', 'False/True', (700, 10, 10)]"


def test_no_full_collection_in_the_block_but_cycles_that_die_young_are_freed() -> None:
    # Held objects enough to start several full collections outside the block (the baseline, in the same run); a cycle
    # dropped inside the block, then allocations enough for young collections: the cycle is gone before the block ends.
    out = _run("""
        import gc, weakref
        from gateway.pipeline.heap import full_collections_paused
        full = []
        gc.callbacks.append(lambda phase, info: phase == "start" and info["generation"] == 2 and full.append(1))
        def hold():
            kept = [[i] for i in range(300_000)]
            return len(kept)
        hold()
        outside, full[:] = len(full), []
        class Node: pass
        with full_collections_paused():
            hold()
            a, b = Node(), Node()
            a.other, b.other = b, a
            gone = weakref.ref(a)
            del a, b
            for _ in range(5):
                [[i] for i in range(1000)]
            freed_inside = gone() is None
            inside = len(full)
        print(outside > 0, inside, freed_inside)
    """)
    assert out == "True 0 True"


def test_an_error_inside_the_block_brings_full_collections_back() -> None:
    out = _run("""
        import gc
        from gateway.pipeline.heap import full_collections_paused
        try:
            with full_collections_paused():
                raise ValueError("routing failed")
        except ValueError:
            pass
        print(gc.get_threshold())
    """)
    assert out == "(700, 10, 10)"


def test_as_a_decorator_each_call_pauses_full_collections() -> None:
    out = _run(f"""
        import gc
        from gateway.pipeline.heap import FULL_NEVER, full_collections_paused
        {_STATE}
        @full_collections_paused()
        def route():
            return state()
        print(route(), state(), route(), state())
    """)
    assert out == "True/True False/True True/True False/True"
