#!/usr/bin/env python3
"""Write gateway/defaults/word_df.json: in how many messages of a real board each word occurs (no text is kept).

    .venv/bin/python ops/train_word_df.py [--data ../shared/data]

A report of a few dozen work orders cannot tell on its own which words are
common: in seven complaints about one mixing plant, 搅拌站 is in five and looks
ordinary. The topic stage adds these background counts (4,143 real messages of
../shared/data/board-dev.jsonl, segmented as the gateway segments) to the
report's own when it weights words. Only words in at least two messages are
kept, with their counts: no message text, no rare word that could identify one.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.pipeline.topics.text import WORD_DF_PATH, Analyser  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    source = args.data / "board-dev.jsonl"
    if not source.exists():
        sys.exit(f"{source} not found: point --data at the shared/data folder")
    texts = [f"{m['title']}。{m['text']}" for m in map(json.loads, source.read_text(encoding="utf-8").splitlines()) if m]
    analyser = Analyser()
    analyser.learn_from(texts)
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(analyser.analyse(text).words))
    kept = {w: n for w, n in sorted(df.items()) if n >= 2}
    WORD_DF_PATH.write_text(json.dumps({"documents": len(texts), "df": kept}, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{len(kept)} words from {len(texts)} messages → {WORD_DF_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
