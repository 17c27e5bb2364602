#!/usr/bin/env python3
"""Masking rate on 100,000 real texts (the board's, cycled): mask_text ÷ rjieba.tag alone, in the same run.

    .venv/bin/python ops/bench/masking.py [--texts 100000]

The masker tags each text once with rjieba (person names) and runs its patterns;
the baseline is the tagging alone, so the ratio says what the patterns and
cue rules add on top of the lexical analyser.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import rjieba
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gateway.pipeline.privacy import mask_text  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=100_000)
    args = parser.parse_args()
    board = ROOT.parent / "shared" / "data" / "board-dev.jsonl"
    if not board.exists():
        sys.exit(f"{board} is missing: the benchmark reads the real board texts beside the checkout (../shared/data)")
    texts = [json.loads(line)["text"] for line in board.read_text(encoding="utf-8").splitlines() if line.strip()]
    sample = list(itertools.islice(itertools.cycle(texts), args.texts))
    chars = sum(map(len, sample))
    console = Console()
    rates = {}
    with Progress(console=console, transient=True) as progress:
        for name, fn in (("rjieba.tag alone (baseline)", rjieba.tag), ("mask_text", mask_text)):
            task = progress.add_task(name, total=len(sample))
            started = time.perf_counter()
            for i in range(0, len(sample), 1000):
                for text in sample[i:i + 1000]:
                    fn(text)
                progress.advance(task, 1000)
            rates[name] = len(sample) / (time.perf_counter() - started)
    base = rates["rjieba.tag alone (baseline)"]
    for name, rate in rates.items():
        console.print(f"{name:<30} {rate:>9,.0f} texts/s  ({rate / base:.2f}× the tagging alone)")
    console.print(f"{len(sample):,} texts, {chars / len(sample):.0f} characters on average, one core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
