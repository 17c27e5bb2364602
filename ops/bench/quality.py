#!/usr/bin/env python3
"""Quality figures on ../shared/data: routing accuracy, near-duplicate precision and recall, PII masking.

    .venv/bin/python ops/bench/quality.py [--data ../shared/data]

1. Routing: each labelled message's first-level category → committee by the
   bundled routing, against the committee table of DOMAIN.md; then the same with
   the category removed (as web and app messages arrive), inferred by the
   shipped classifier, on the held-out 20% it was not trained on.
2. Near-duplicates: a labelled set built from the messages. For 120 messages,
   4 variants each as citizens re-send them (a prefix such as 再次反映, a
   polite suffix, a masked phone number, a sentence dropped or doubled,
   punctuation changed); pairs from the same message are duplicates, pairs from
   different messages are not (the messages themselves are distinct). Precision
   and recall of the MinHash/LSH issue assignment over all pairs.
3. PII: recall and false positives on the 204-string labelled suite (tests/helpers/pii_cases.py).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "ops"))

from gateway.pipeline.classifier import CategoryClassifier  # noqa: E402
from gateway.pipeline.neardup import MinHasher, same_issue_pairs  # noqa: E402
from gateway.pipeline.privacy import mask_text  # noqa: E402
from gateway.pipeline.routing_rules import bundled_routing_path, load_routing  # noqa: E402
from train_classifier import load_messages, split  # noqa: E402

DOMAIN_TABLE = {
    "城乡建设": "urban", "环境保护": "urban", "交通运输": "urban", "国土资源": "urban",
    "经济管理": "economy", "商贸旅游": "economy", "科技与信息产业": "economy", "农村农业": "agriculture",
    "教育文体": "education", "卫生计生": "education", "劳动和社会保障": "society", "民政": "society", "政法": "society",
    "党务政务": "office",
}
PREFIXES = ["", "再次反映：", "我要投诉，", "您好，", "市民来电反映："]
SUFFIXES = ["", "希望尽快处理！", "请相关部门重视。", "联系电话138****5678。", "谢谢！"]


def variant(text: str, rng: random.Random) -> str:
    sentences = [s for s in re.split(r"(?<=[。！？!?])", text) if s]
    if len(sentences) > 2 and rng.random() < 0.3:
        sentences.pop(rng.randrange(len(sentences)))  # a sentence left out
    elif sentences and rng.random() < 0.2:
        sentences.append(sentences[-1])  # repeated
    body = "".join(sentences)
    if rng.random() < 0.5:
        body = body.replace("，", ",").replace("。", ".")
    return rng.choice(PREFIXES) + body + rng.choice(SUFFIXES)


def routing_figures(rows: list[tuple[str, str]], test: list[tuple[str, str]]) -> dict[str, object]:
    routing = load_routing(bundled_routing_path())
    labelled = sum(routing.route([label]) == DOMAIN_TABLE[label] for _, label in rows)
    model = CategoryClassifier.load()
    inferred = sum(routing.route([model.predict(text).category]) == DOMAIN_TABLE[label] for text, label in test)
    return {
        "labelled_category_to_committee": f"{labelled}/{len(rows)} = {labelled / len(rows):.3f}",
        "inferred_category_to_committee_heldout": f"{inferred}/{len(test)} = {inferred / len(test):.3f}",
    }


def neardup_figures(rows: list[tuple[str, str]], seed: int = 7) -> dict[str, object]:
    rng = random.Random(seed)
    originals = [text for text, _ in rng.sample(rows, 120) if len(text) >= 30]
    texts, origin = [], []
    for i, text in enumerate(originals):
        for _ in range(4):
            texts.append(variant(text, rng))
            origin.append(i)
    predicted = same_issue_pairs(texts, MinHasher())
    truth = {(i, j) for i, j in combinations(range(len(texts)), 2) if origin[i] == origin[j]}
    tp = len(predicted & truth)
    return {
        "messages": len(originals), "texts": len(texts), "true_pairs": len(truth), "predicted_pairs": len(predicted),
        "precision": round(tp / len(predicted), 4) if predicted else None, "recall": round(tp / len(truth), 4),
    }


def pii_figures() -> dict[str, object]:
    from tests.helpers.pii_cases import build_cases

    cases = build_cases()
    secrets = found = negatives = altered = 0
    for case in cases:
        caller = [case.text.split("说")[0]] if case.kind == "caller_field" else []
        masked = mask_text(case.text, caller)
        if case.kind == "negative":
            negatives += 1
            altered += masked != case.text
        for secret in case.secrets:
            secrets += 1
            found += secret not in masked
    return {"strings": len(cases), "pii_items": secrets, "recall": round(found / secrets, 4),
            "negative_strings": negatives, "false_positive_rate": round(altered / negatives, 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    rows = load_messages(args.data)
    _, test = split(rows)
    model_meta = json.loads((ROOT / "gateway" / "defaults" / "category_model.json").read_text(encoding="utf-8"))["meta"]
    report = {
        "classifier_heldout": {k: model_meta[k] for k in ("test_messages", "accuracy", "macro_f1")},
        "routing": routing_figures(rows, test),
        "near_duplicates": neardup_figures(rows),
        "pii": pii_figures(),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
