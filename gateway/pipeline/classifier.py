"""Category when missing: a naive Bayes classifier over character 1–2-grams, shipped with the package.

Trained by ops/train_classifier.py on the labelled messages in ../shared/data
(7 first-level categories) and on the taxonomy's own names for all 15; the
model file holds counts, not texts. Nothing is downloaded at run time.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parents[1] / "defaults" / "category_model.json"
_KEEP = re.compile(r"[\u4e00-\u9fff]+")
STOP_CHARS = set("的了在是我有和就不人都一个上也很到说要去你会着没看好自己这那")


def features(text: str) -> Counter[str]:
    text = unicodedata.normalize("NFKC", text)
    grams: Counter[str] = Counter()
    for run in _KEEP.findall(text):
        chars = [c for c in run]
        grams.update(c for c in chars if c not in STOP_CHARS)
        grams.update(run[i:i + 2] for i in range(len(run) - 1))
    return grams


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float


class CategoryClassifier:
    def __init__(self, counts: dict[str, dict[str, int]], docs: dict[str, int], alpha: float = 0.5) -> None:
        self.classes = sorted(counts)
        # Log-likelihoods as one matrix (a row per feature of the vocabulary, a column per class, smoothed: a feature a
        # class never saw gets that class's unseen value): a text's scores are one product of its counts with its
        # features' rows, not a Python sum per class (4 ms a board message before).
        self._index = {f: i for i, f in enumerate(sorted({f for c in counts.values() for f in c}))}
        totals = [sum(counts[c].values()) + alpha * (len(self._index) + 1) for c in self.classes]
        self._matrix = np.tile(np.array([math.log(alpha / total) for total in totals], dtype=np.float64), (len(self._index), 1))
        for j, (c, total) in enumerate(zip(self.classes, totals)):
            for f, n in counts[c].items():
                self._matrix[self._index[f], j] = math.log((n + alpha) / total)
        total_docs = sum(docs.values())
        self._prior = np.array([math.log(docs[c] / total_docs) for c in self.classes], dtype=np.float64)

    @classmethod
    def train(cls, documents: list[tuple[str, str]], alpha: float = 0.5) -> "CategoryClassifier":
        counts: dict[str, Counter[str]] = {}
        docs: Counter[str] = Counter()
        for text, label in documents:
            counts.setdefault(label, Counter()).update(features(text))
            docs[label] += 1
        return cls({c: dict(v) for c, v in counts.items()}, dict(docs), alpha)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "CategoryClassifier":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["counts"], data["docs"], data.get("alpha", 0.5))

    def predict(self, text: str) -> Prediction:
        """The likeliest class and its posterior probability (features outside the vocabulary count for none)."""
        rows, counts = [], []
        for f, n in features(text).items():
            i = self._index.get(f)
            if i is not None:
                rows.append(i)
                counts.append(n)
        scores = self._prior + np.asarray(counts, dtype=np.float64) @ self._matrix[rows] if rows else self._prior.copy()
        best = int(np.argmax(scores))  # the first of equal scores, in the classes' sorted order, as max() over them took
        norm = float(np.exp(scores - scores[best]).sum())
        return Prediction(self.classes[best], 1.0 / norm)
