"""The pipeline's long-lived objects are set apart from the garbage collector once per process (gateway/pipeline/heap.py).

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


def test_the_collector_rests_while_blocks_run_and_resumes_after_the_last_one() -> None:
    out = _run("""
        import gc, threading
        from gateway.pipeline.heap import collector_paused
        seen = []
        first_in, second_done = threading.Event(), threading.Event()
        def other():
            with collector_paused():
                first_in.set()
                second_done.wait(10)
                seen.append(gc.isenabled())  # the other block ended: still paused while this one runs
            seen.append(gc.isenabled())
        t = threading.Thread(target=other)
        t.start()
        first_in.wait(10)
        with collector_paused():
            seen.append(gc.isenabled())
        second_done.set()
        t.join(10)
        gc.disable()
        with collector_paused():
            pass
        seen.append(gc.isenabled())  # disabled before: left disabled
        print(seen)
    """)
    assert out == "[False, False, True, False]"


def test_an_error_inside_the_block_resumes_the_collector() -> None:
    out = _run("""
        import gc
        from gateway.pipeline.heap import collector_paused
        try:
            with collector_paused():
                raise ValueError("routing failed")
        except ValueError:
            pass
        print(gc.isenabled())
    """)
    assert out == "True"


def test_as_a_decorator_each_call_pauses_the_collector() -> None:
    out = _run("""
        import gc
        from gateway.pipeline.heap import collector_paused
        @collector_paused()
        def route():
            return gc.isenabled()
        print(route(), gc.isenabled(), route(), gc.isenabled())
    """)
    assert out == "False True False True"
