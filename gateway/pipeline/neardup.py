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
from sqlalchemy import Select, bindparam, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from gateway.db.rows import insert_returning_ids, insert_rows, one_of, update_rows
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
        self._band_prefixes = [f"{i:02d}" for i in range(bands)]  # a band key: its number, then the digest of its rows

    def signature(self, text: str) -> np.ndarray | None:
        return self.signatures([text])[0]

    def signatures(self, texts: list[str], batch: int = 2000, max_grams: int = 16_384) -> list[np.ndarray | None]:
        """MinHash signatures of many texts, up to `batch` texts or `max_grams` 3-grams per numpy operation.

        One operation over many texts, not one call per text; but not over too many grams either: a batch's
        array is grams × 64 words, and past a few MB it no longer fits the cache (2,000 board messages of
        379 characters in one operation took 5 times as long as in operations of 16,384 grams).
        """
        result: list[np.ndarray | None] = []
        hashes: list[int] = []
        offsets: list[int] = []
        empty: list[bool] = []

        def flush() -> None:
            mins = iter(())  # type: ignore[var-annotated]
            if hashes:
                x = np.asarray(hashes, dtype=np.uint64)
                # (a*x + b) mod p with 64-bit wrap-around is a universal hash family good enough for MinHash.
                hashed = (np.outer(x, self.a) + self.b) % np.uint64(PRIME)
                mins = iter(np.minimum.reduceat(hashed, np.asarray(offsets), axis=0))
            result.extend(None if is_empty else next(mins) for is_empty in empty)
            hashes.clear(), offsets.clear(), empty.clear()

        for text in texts:
            grams = shingles(text)
            empty.append(not grams)
            if grams:
                offsets.append(len(hashes))
                # crc32 is stable across processes (Python's hash() is not): the index persists.
                hashes.extend(zlib.crc32(g.encode("utf-8")) for g in grams)
            if len(empty) >= batch or len(hashes) >= max_grams:
                flush()
        flush()
        return result

    def band_keys(self, signature: np.ndarray) -> list[str]:
        return [prefix + digest.hex() for prefix, digest in zip(self._band_prefixes, self._band_digests(signature))]

    def _band_digests(self, signature: np.ndarray) -> list[bytes]:
        """What the persistent index keys a band by: blake2b-64 of its rows."""
        return [hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in signature.reshape(self.bands, self.rows)]

    def pack(self, texts: list[str]) -> list[bytes]:
        """Signature and band keys of each text as stored with its work order: b"" for a text without letters.

        Normalization packs (a chunk at a time, on any worker); routing, the one ordered stage, unpacks.
        """
        return [b"" if sig is None else sig.tobytes() + b"".join(self._band_digests(sig)) for sig in self.signatures(texts)]

    def unpack(self, packed: bytes) -> tuple[np.ndarray, list[str]] | None:
        """(signature, band keys) of a packed value, None for a text without letters; the same as signatures() and band_keys()."""
        if not packed:
            return None
        size = self.num_perm * 8
        if len(packed) != size + self.bands * 8:
            raise ValueError(f"a packed MinHash of {len(packed)} bytes; this hasher packs {size + self.bands * 8}")
        digests = packed[size:].hex()
        return np.frombuffer(packed[:size], dtype=np.uint64), [prefix + digests[16 * i:16 * i + 16] for i, prefix in enumerate(self._band_prefixes)]

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.mean(a == b))


@dataclass
class OrderText:
    """What issue assignment needs of a work order."""

    id: int
    content: str
    street: str | None
    community: str | None
    category: list[str]
    received_at: datetime
    issue_pk: int | None
    minhash: bytes | None = None  # MinHasher.pack of the content, when normalization stored it


@dataclass
class _Candidate:
    key: int  # an existing issue's id, or -(position+1) of a new one
    street: str | None
    first_seen: datetime
    last_seen: datetime
    signature: np.ndarray
    count: int = 0


HASHER = MinHasher()  # the one all stages use: its signatures and band keys are stored

# PostgreSQL plans the band look-up from the table's statistics. Bands added in the running transaction are not in
# them (autovacuum cannot see them), so after a table analysed empty gains a report's bands, the planner takes the
# look-up for half the table and scans all of it: 0.8 s instead of 0.02 s for each of a 100,000-record report's
# look-ups. Past this many new bands, the transaction analyses the table itself (ANALYZE counts its own new rows).
ANALYZE_AFTER_BANDS = 10_000


def band_lookup(bands: list[str], dialect: str) -> Select[tuple[str, int]]:
    """The issues that have any of these bands."""
    return select(IssueBand.band, IssueBand.issue_pk).where(one_of(IssueBand.band, bands, dialect))


def _add_bands(connection: Connection, rows: list[dict[str, object]]) -> None:
    insert_rows(connection, IssueBand.__table__, rows)
    if len(rows) >= ANALYZE_AFTER_BANDS and connection.dialect.name == "postgresql":
        connection.execute(text(f"ANALYZE {IssueBand.__tablename__}"))


def _signed(orders: list[OrderText], hasher: MinHasher) -> tuple[list[tuple[OrderText, np.ndarray]], dict[int, list[str]]]:
    """Each order's signature and band keys: as normalization stored them, packed here for orders stored before it did."""
    missing = [o for o in orders if o.minhash is None]
    computed = dict(zip((o.id for o in missing), hasher.pack([o.content for o in missing])))
    pending, keys = [], {}
    for o in orders:
        signed = hasher.unpack(o.minhash if o.minhash is not None else computed[o.id])
        if signed is not None:
            pending.append((o, signed[0]))
            keys[o.id] = signed[1]
    return pending, keys


def assign_issues(session: Session, orders: Iterable[OrderText], hasher: MinHasher, *, threshold: float = 0.6, max_days: int = 30,
                  write_orders: bool = True) -> dict[int, int]:
    """Put each work order without an issue into the issue it near-duplicates, or a new one. Returns {work order id: issue id}.

    `write_orders=False`: the caller writes the work orders' issue_pk itself (routing writes all it sets in one statement).
    """
    pending, keys = _signed([o for o in orders if o.issue_pk is None], hasher)
    if not pending:
        return {}
    wanted = list({k for ks in keys.values() for k in ks})
    # Each band's issues in the order of their ids, the ones this call founds after them in the order founded (the
    # ids they will get): so that the orders put in one call or in several, one after the other, join the same issues.
    band_to: dict[str, list[int]] = {}
    connection = session.connection()
    for i in range(0, len(wanted), 2000):
        for band, issue_pk in connection.execute(band_lookup(wanted[i:i + 2000], connection.dialect.name)):
            band_to.setdefault(band, []).append(issue_pk)
    for issue_pks in band_to.values():
        issue_pks.sort()
    existing = list({pk for pks in band_to.values() for pk in pks})
    candidates: dict[int, _Candidate] = {}
    for i in range(0, len(existing), 2000):
        rows = connection.execute(select(Issue.id, Issue.street, Issue.first_seen_at, Issue.last_seen_at, Issue.signature).where(Issue.id.in_(existing[i:i + 2000])))
        for pk, street, first, last, signature in rows:
            candidates[pk] = _Candidate(pk, street, first, last, np.asarray(signature, dtype=np.uint64))
    new_issues: list[tuple[OrderText, np.ndarray]] = []
    assigned: dict[int, int] = {}  # order id -> candidate key
    window = timedelta(days=max_days)
    perms = hasher.num_perm
    for order, sig in pending:
        # Each candidate once (a near duplicate shares most of its 16 bands with its issue), in the order of its last
        # band: of the best-scoring ones, the one met last wins, as when every band's candidates were scored in turn.
        met: dict[int, None] = {}
        for band in keys[order.id]:
            for key in band_to.get(band, ()):
                met.pop(key, None)
                met[key] = None
        best_key, best_score = None, threshold
        for key in met:
            c = candidates[key]
            if order.street and c.street and order.street != c.street:
                continue
            if order.received_at - c.last_seen > window or c.first_seen - order.received_at > window:
                continue
            score = np.count_nonzero(sig == c.signature) / perms
            if score >= best_score:
                best_key, best_score = key, score
        if best_key is None:
            best_key = -(len(new_issues) + 1)
            new_issues.append((order, sig))
            candidates[best_key] = _Candidate(best_key, order.street, order.received_at, order.received_at, sig)
            for band in keys[order.id]:
                band_to.setdefault(band, []).append(best_key)
        c = candidates[best_key]
        c.count += 1
        c.first_seen, c.last_seen = min(c.first_seen, order.received_at), max(c.last_seen, order.received_at)
        assigned[order.id] = best_key

    real: dict[int, int] = {key: key for key in candidates if key > 0}
    if new_issues:
        ids = insert_returning_ids(connection, Issue.__table__, [
            {"issue_id": f"new-{o.id}", "category": list(o.category or [])[:2], "street": o.street, "community": o.community,
             "signature": [int(v) for v in sig], "work_order_count": 0, "first_seen_at": o.received_at, "last_seen_at": o.received_at}
            for o, sig in new_issues])
        for position, pk in enumerate(ids):
            real[-(position + 1)] = pk
        connection.execute(
            update(Issue.__table__).where(Issue.__table__.c.id == bindparam("_id")),
            [{"_id": pk, "issue_id": f"I{pk:07d}"} for pk in ids],
        )
        _add_bands(connection, [
            {"band": band, "issue_pk": real[-(position + 1)]} for position, (o, _) in enumerate(new_issues) for band in set(keys[o.id])
        ])
    touched = [c for c in candidates.values() if c.count]
    connection.execute(
        update(Issue.__table__).where(Issue.__table__.c.id == bindparam("_id")).values(
            work_order_count=Issue.__table__.c.work_order_count + bindparam("_add"),
            first_seen_at=bindparam("_first"), last_seen_at=bindparam("_last"),
        ),
        [{"_id": real[c.key], "_add": c.count, "_first": c.first_seen, "_last": c.last_seen} for c in touched],
    )
    result = {order_id: real[key] for order_id, key in assigned.items()}
    if write_orders:
        update_rows(connection, WorkOrder.__table__, [{"id": order_id, "issue_pk": pk} for order_id, pk in result.items()])
    return result


def assign_counted(session: Session, orders: list[OrderText], hasher: MinHasher) -> tuple[dict[int, int], int]:
    """assign_issues for a caller that writes the work orders itself, and how many near duplicates it found: orders that
    joined an issue which existed before them, or that a fellow order founded."""
    if not any(o.issue_pk is None for o in orders):
        return {}, 0
    newest_before = session.scalar(select(func.max(Issue.id))) or 0
    issues = assign_issues(session, orders, hasher, write_orders=False)
    return issues, len(issues) - len({issue for issue in issues.values() if issue > newest_before})


def same_issue_pairs(texts: list[str], hasher: MinHasher, threshold: float = 0.6) -> set[tuple[int, int]]:
    """Which pairs of texts the LSH + verification would put in one issue (for the quality figures)."""
    sigs = hasher.signatures(texts)
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


