"""The masker on the development set a helper built from the real texts (tests/data/pii_dev_set.jsonl).

1,139 strings: 829 with personal data inserted into real sentences of ../shared/data in 40 phrasing families
(and 59 real sentences that name real people, labelled by hand), 294 negatives, 16 licence plates (recorded only).
It was built without reading the masker, then the masker was reworked on its failures (docs/quality.md): so it
is a development set, not a held-out one. The figures are held exactly as measured: a change that masks one
secret fewer, or changes one more negative, fails here and says which.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from gateway.pipeline.privacy import mask_text

CASES = Path(__file__).resolve().parents[2] / "data" / "pii_dev_set.jsonl"
MASKED_AT_LEAST = {"name": 461, "mobile": 136, "landline": 60, "id": 42, "card": 35, "email": 21, "wechat": 18, "qq": 18, "address": 138}
OF = {"name": 508, "mobile": 136, "landline": 60, "id": 42, "card": 36, "email": 21, "wechat": 18, "qq": 18, "address": 138}
NEGATIVES_CHANGED_AT_MOST = 1  # of 294 (…饭店…的管道: a word of the text read as a name)


def test_the_development_set_is_masked_no_worse_than_measured() -> None:
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    masked: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[str] = []
    changed: list[str] = []
    for case in cases:
        out = mask_text(case["text"], case["names"])
        if case["polarity"] == "neg":
            if out != case["text"]:
                changed.append(f"{case['text']} → {out}")
        elif case["polarity"] == "pos":
            for secret, kind in zip(case["secrets"], case["secret_kinds"]):
                total[kind] += 1
                if secret not in out:
                    masked[kind] += 1
                else:
                    missed.append(f"{kind}: {secret!r} in {out}")
    assert dict(total) == OF, "the set changed: measure again and update the figures deliberately"
    worse = {kind: (masked[kind], n) for kind, n in MASKED_AT_LEAST.items() if masked[kind] < n}
    assert not worse, (worse, missed[:20])
    assert len(changed) <= NEGATIVES_CHANGED_AT_MOST, changed
