"""Recall and false positives of the masker on a labelled suite (figures in docs/quality.md)."""
from collections import Counter

from gateway.pipeline.privacy import mask_text
from tests.helpers.pii_cases import build_cases


def score() -> tuple[float, float, dict[str, tuple[int, int]], int]:
    cases = build_cases()
    found = total = 0
    per_kind: Counter[str] = Counter()
    per_kind_hit: Counter[str] = Counter()
    negatives = altered = 0
    for case in cases:
        caller = [w for w in case.text.split("说")[:1] if case.kind == "caller_field"]
        masked = mask_text(case.text, caller)
        if case.kind == "negative":
            negatives += 1
            altered += masked != case.text
            continue
        for secret in case.secrets:
            total += 1
            per_kind[case.kind] += 1
            if secret not in masked:
                found += 1
                per_kind_hit[case.kind] += 1
        for kept in case.keep:
            assert kept in masked, (case.text, masked)
    return found / total, altered / negatives, {k: (per_kind_hit[k], per_kind[k]) for k in per_kind}, len(cases)


def test_suite_is_large_and_varied() -> None:
    cases = build_cases()
    assert len(cases) >= 200
    assert len({c.kind for c in cases}) >= 9
    assert len({c.text for c in cases}) >= 190


def test_recall_and_false_positives() -> None:
    recall, false_positive_rate, per_kind, _ = score()
    assert all(hit == n for hit, n in per_kind.values()), per_kind
    assert recall == 1.0
    assert false_positive_rate == 0.0
