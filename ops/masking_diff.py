#!/usr/bin/env python3
"""What a change to the masker changes on real texts: this checkout's mask_text against the one at a git revision.

    .venv/bin/python ops/masking_diff.py [--against HEAD~1] [--data ../shared/data] [--context 12]

Reads every `text` (or `content`) of the .jsonl files in the data folder (the
public board and the labelled messages: texts nobody here wrote), masks each
with gateway/pipeline/privacy.py as it is in the working tree and as it was at
the revision, and prints each span that differs, old => new, then how many
texts changed. A masker change that should mask more names shows them here,
and so does one that masks words that are no names. Nothing is written.
"""
from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODULE = "gateway/pipeline/privacy.py"


def texts_in(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    texts.append(record.get("text") or record.get("content") or "")
    return texts


def masker_at(revision: str, scratch: Path):  # type: ignore[no-untyped-def]
    """gateway/pipeline/privacy.py as it was at `revision`, loaded as a module of its own."""
    try:
        source = subprocess.run(["git", "show", f"{revision}:{MODULE}"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"cannot read {MODULE} at {revision!r}: {exc.stderr.strip()}; name a commit of this repository") from None
    path = scratch / "privacy_at_revision.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("privacy_at_revision", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default="HEAD", help="the git revision to compare with (default HEAD: what the working tree changes)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="a folder of .jsonl files with a text field")
    parser.add_argument("--context", type=int, default=12, help="characters shown before each differing span")
    args = parser.parse_args()
    texts = texts_in(args.data)
    if not texts:
        raise SystemExit(f"no .jsonl texts in {args.data}: point --data at the shared data folder")
    from gateway.pipeline.privacy import mask_text

    with tempfile.TemporaryDirectory() as scratch:
        old = masker_at(args.against, Path(scratch))
        changed = 0
        for text in texts:
            before, after = old.mask_text(text), mask_text(text)
            if before == after:
                continue
            changed += 1
            matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
            for op, i1, i2, j1, j2 in matcher.get_opcodes():
                if op != "equal":
                    print(f"{before[max(0, i1 - args.context):i2 + 6]!r} => {after[max(0, j1 - args.context):j2 + 6]!r}")
    print(f"{len(texts):,} texts from {args.data}; {changed} masked differently than at {args.against}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
