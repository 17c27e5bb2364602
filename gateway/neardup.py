"""Near-duplicate work orders → issues: MinHash over character 3-grams with a persistent LSH index.

Work orders whose masked texts are near-identical (estimated Jaccard ≥ the
threshold), in the same street (when both know it) and within `max_days` of
each other belong to one issue. The band index lives in the database, so next
week's work orders join this week's issues.
"""
from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db.models import Issue, IssueBand, WorkOrder

PRIME = (1 << 61) - 1
_NOISE = re.compile(r"\d+\*+\d+|\[[^\]]{1,6}\]|[^\u4e00-\u9fffA-Za-z]")  # masked data, digits, punctuation, spaces


def shingles(text: str, n: int = 3) -> set[str]:
    core = _NOISE.sub("", text)
    if len(core) < n:
        return {core} if core else set()
    return {core[i:i + n] for i in range(len(core) - n + 1)}


class MinHasher:
    def __init__(self, num_perm: int = 64, bands: int = 16, seed: int = 20261123) -> None:
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, PRIME, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, PRIME, size=num_perm, dtype=np.uint64)
        self.num_perm, self.bands, self.rows = num_perm, bands, num_perm // bands

    def signature(self, text: str) -> np.ndarray | None:
        grams = shingles(text)
        if not grams:
            return None
        # crc32 is stable across processes (Python's hash() is not): the index persists.
        x = np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint64, count=len(grams))
        # (a*x + b) mod p with 64-bit wrap-around is a universal hash family good enough for MinHash.
        hashed = (np.outer(x, self.a) + self.b) % np.uint64(PRIME)
        return hashed.min(axis=0)

    def band_keys(self, signature: np.ndarray) -> list[str]:
        view = signature.reshape(self.bands, self.rows)
        return [f"{i:02d}" + hashlib.blake2b(row.tobytes(), digest_size=8).hexdigest() for i, row in enumerate(view)]

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(a == b))


@dataclass
class _Known:
    issue: Issue
    signature: np.ndarray


def assign_issues(session: Session, orders: Iterable[WorkOrder], hasher: MinHasher, *, threshold: float = 0.6, max_days: int = 30) -> int:
    """Put each work order (without an issue yet) into the issue it near-duplicates, or a new one. Returns new issues."""
    pending = [(o, sig) for o in orders if o.issue_pk is None and (sig := hasher.signature(o.content_masked)) is not None]
    if not pending:
        return 0
    keys = {o.id: hasher.band_keys(sig) for o, sig in pending}
    wanted = {k for ks in keys.values() for k in ks}
    band_to_issues: dict[str, set[int]] = {}
    for band, issue_pk in session.execute(select(IssueBand.band, IssueBand.issue_pk).where(IssueBand.band.in_(wanted))):
        band_to_issues.setdefault(band, set()).add(issue_pk)
    candidates = {pk for pks in band_to_issues.values() for pk in pks}
    known: dict[int, _Known] = {
        issue.id: _Known(issue, np.asarray(issue.signature, dtype=np.uint64))
        for issue in (session.scalars(select(Issue).where(Issue.id.in_(candidates))) if candidates else [])
    }
    created = 0
    window = timedelta(days=max_days)
    for order, sig in pending:
        best: tuple[float, _Known] | None = None
        for band in keys[order.id]:
            for pk in band_to_issues.get(band, ()):
                k = known[pk]
                if order.street and k.issue.street and order.street != k.issue.street:
                    continue
                if abs(order.received_at - k.issue.last_seen_at) > window and abs(order.received_at - k.issue.first_seen_at) > window:
                    continue
                score = hasher.similarity(sig, k.signature)
                if score >= threshold and (best is None or score > best[0]):
                    best = (score, k)
        if best is not None:
            issue = best[1].issue
            issue.work_order_count += 1
            issue.last_seen_at = max(issue.last_seen_at, order.received_at)
            issue.first_seen_at = min(issue.first_seen_at, order.received_at)
        else:
            issue = Issue(
                issue_id="", category=list(order.category or [])[:2], street=order.street, community=order.community,
                signature=[int(v) for v in sig], work_order_count=1, first_seen_at=order.received_at, last_seen_at=order.received_at,
            )
            session.add(issue)
            session.flush()
            issue.issue_id = f"I{issue.id:07d}"
            created += 1
            known[issue.id] = _Known(issue, sig)
            for band in keys[order.id]:
                session.add(IssueBand(band=band, issue_pk=issue.id))
                band_to_issues.setdefault(band, set()).add(issue.id)
        order.issue_pk = issue.id
    session.flush()
    return created


def same_issue_pairs(texts: list[str], hasher: MinHasher, threshold: float = 0.6) -> set[tuple[int, int]]:
    """Which pairs of texts the LSH + verification would put in one issue (for the quality figures)."""
    sigs = [hasher.signature(t) for t in texts]
    buckets: dict[str, list[int]] = {}
    for i, sig in enumerate(sigs):
        if sig is not None:
            for band in hasher.band_keys(sig):
                buckets.setdefault(band, []).append(i)
    pairs = set()
    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                i, j = members[x], members[y]
                if (i, j) not in pairs and hasher.similarity(sigs[i], sigs[j]) >= threshold:  # type: ignore[arg-type]
                    pairs.add((i, j))
    return pairs


