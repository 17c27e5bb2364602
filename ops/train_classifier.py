#!/usr/bin/env python3
"""Train the category classifier shipped in gateway/defaults/category_model.json and report its quality.

    .venv/bin/python ops/train_classifier.py [--data ../shared/data]

Labelled messages (../shared/data/messages-dev.jsonl, 7 first-level categories)
are split 80/20 by category with a fixed seed; the model is trained on the 80%
and on pseudo-documents made of the taxonomy's second- and third-level names for
all 15 first-level categories, then scored on the 20% it never saw. The shipped
model is the one scored. The file holds n-gram counts only, no message text.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.pipeline.classifier import MODEL_PATH, CategoryClassifier, features  # noqa: E402
from gateway.pipeline.taxonomy import Taxonomy  # noqa: E402


def load_messages(data: Path) -> list[tuple[str, str]]:
    rows = []
    for line in (data / "messages-dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            m = json.loads(line)
            rows.append((f"{m['title']} {m['text']}", m["category_l1"]))
    return rows


def split(rows: list[tuple[str, str]], seed: int = 13, test_share: float = 0.2) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(by_label):
        items = by_label[label]
        rng.shuffle(items)
        cut = max(1, round(len(items) * test_share))
        test += items[:cut]
        train += items[cut:]
    return train, test


def taxonomy_documents(taxonomy: Taxonomy) -> list[tuple[str, str]]:
    docs = []
    for l1 in sorted(taxonomy.level1):
        for l2 in sorted(taxonomy.level2[l1]):
            names = " ".join(sorted(taxonomy.level3[(l1, l2)]))
            docs.append((f"{l1} {l2} {names}", l1))
    return docs


def scores(model: CategoryClassifier, test: list[tuple[str, str]]) -> dict[str, object]:
    labels = sorted({label for _, label in test})
    predicted = [model.predict(text).category for text, _ in test]
    correct = sum(p == t for p, (_, t) in zip(predicted, test))
    f1s = {}
    for label in labels:
        tp = sum(p == label and t == label for p, (_, t) in zip(predicted, test))
        fp = sum(p == label and t != label for p, (_, t) in zip(predicted, test))
        fn = sum(p != label and t == label for p, (_, t) in zip(predicted, test))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"test_messages": len(test), "accuracy": round(correct / len(test), 4),
            "macro_f1": round(sum(f1s.values()) / len(f1s), 4), "f1_by_category": {k: round(v, 3) for k, v in f1s.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    rows = load_messages(args.data)
    train, test = split(rows)
    documents = train + taxonomy_documents(Taxonomy.load(args.data / "taxonomy.csv"))
    model = CategoryClassifier.train(documents)
    report = scores(model, test)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    docs: dict[str, int] = defaultdict(int)
    for text, label in documents:
        docs[label] += 1
        for gram, n in features(text).items():
            counts[label][gram] += n
    # Drop n-grams seen once in all the training text: they carry no evidence and most of the size.
    totals: dict[str, int] = defaultdict(int)
    for per_class in counts.values():
        for gram, n in per_class.items():
            totals[gram] += n
    pruned = {label: {g: n for g, n in per_class.items() if totals[g] > 1} for label, per_class in counts.items()}
    shipped = CategoryClassifier(pruned, dict(docs))
    report_shipped = scores(shipped, test)
    args.out.write_text(json.dumps({"alpha": 0.5, "docs": dict(docs), "counts": pruned,
                                    "meta": {"train_messages": len(train), "taxonomy_documents": len(documents) - len(train), **report_shipped}},
                                   ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(json.dumps({"unpruned": report, "shipped": report_shipped, "model_bytes": args.out.stat().st_size}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
