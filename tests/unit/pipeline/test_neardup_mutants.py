"""Near-duplicates, exactly: the 3-grams, the persisted MinHash and band keys, the pairs, and what an issue row records (mutmut's survivors of gateway/pipeline/neardup.py).

The band index lives in the database, so a text's signature and band keys must
stay the same from release to release: the values pinned below were computed
with a separate pure-Python MinHash (crc32 of each 3-gram, (a·x + b) mod 2^64
mod 2^61−1 with a, b drawn from numpy's default_rng(20261123), blake2b-64 of
each band's four little-endian uint64), not with gateway.pipeline.neardup.
That reference is also written out below (`_ref_signature`, `_ref_band_keys`,
checked against the pinned values) for the tests that need the signature of
another text.
"""
from __future__ import annotations

import hashlib
import random
import re
import struct
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from gateway.db.engine import make_engine
from gateway.db.models import Base, Issue, IssueBand, WorkOrder
from gateway.pipeline import neardup
from gateway.pipeline.neardup import MinHasher, OrderText, assign_counted, assign_issues, same_issue_pairs, shingles

HASHER = MinHasher()
FLOOD = "云景里小区门口道路积水严重，一下雨就没过脚踝，已经好几年了，希望彻底解决排水问题。"
LAMP = "小区东门的路灯坏了一个月了，晚上很黑，请尽快修好。"
LAMP_START = "小区东门的路灯坏了请尽快处理。"  # shares one band with LAMP, estimated Jaccard 0.36
DAY0 = datetime(2026, 11, 16, 1, 0, tzinfo=timezone.utc)

DARK = "路灯不亮，晚上很黑"
DARK_FIRST_VALUES = [137119292834841756, 268356306635587091, 214432950274851263, 117072636472263905]
DARK_BAND_KEYS = [
    "007344855d119f9ca2", "01f1872cf0acb27e81", "02a4b8f454f0e91dd0", "03c247a037a3845486",
    "04736882aa6bacd433", "05c6c9d91a16e9d38d", "06e7aff18c396bbdd0", "07876dd450f73a2820",
    "08b65e080811804e36", "0968d97e8875c87180", "10a6ffe59ef892d330", "11a9eac0c25a9d7580",
    "127b3f367d3b22a988", "1312cea92e3dd907bc", "1453d007b9de1128de", "155444b04117dd1eaf",
]

# ---- the reference MinHash (pure Python; numpy only for the seeded draws of a and b) -----------------

_PRIME = (1 << 61) - 1
_draws = np.random.default_rng(20261123)
_A = [int(v) for v in _draws.integers(1, _PRIME, size=64, dtype=np.uint64)]
_B = [int(v) for v in _draws.integers(0, _PRIME, size=64, dtype=np.uint64)]


def _ref_grams(text: str) -> set[str]:
    core = re.sub(r"\d+\*+\d+|\[[^\]]{1,6}\]|[^\u4e00-\u9fffA-Za-z]", "", text)
    return {core[i:i + 3] for i in range(len(core) - 2)} or ({core} if core else set())


def _ref_signature(text: str) -> list[int]:
    xs = [zlib.crc32(g.encode("utf-8")) for g in _ref_grams(text)]
    return [min((x * a + b) % 2**64 % _PRIME for x in xs) for a, b in zip(_A, _B)]


def _ref_band_keys(signature: list[int]) -> list[str]:
    return [f"{i:02d}" + hashlib.blake2b(struct.pack("<4Q", *signature[4 * i:4 * i + 4]), digest_size=8).hexdigest() for i in range(16)]


def test_the_reference_gives_the_pinned_values() -> None:
    assert _ref_signature(DARK)[:4] == DARK_FIRST_VALUES and _ref_band_keys(_ref_signature(DARK)) == DARK_BAND_KEYS


# ---- 3-grams and MinHash --------------------------------------------------------------------------


def test_a_text_is_cut_into_every_3_gram_of_its_letters() -> None:
    assert shingles("路灯不亮了") == {"路灯不", "灯不亮", "不亮了"}
    assert shingles("路灯亮") == {"路灯亮"}


def test_punctuation_digits_and_masked_data_are_left_out_of_the_grams() -> None:
    assert shingles("路灯，不亮！") == {"路灯不", "灯不亮"}
    assert shingles("电话138****5678[身份证号]路灯不亮") == {"电话路", "话路灯", "路灯不", "灯不亮"}


def test_a_text_shorter_than_3_letters_is_one_gram_and_no_letters_none() -> None:
    assert shingles("路灯") == {"路灯"}
    assert shingles("123，。 ") == set()


def test_num_perm_must_be_a_multiple_of_bands() -> None:
    with pytest.raises(ValueError) as caught:
        MinHasher(num_perm=64, bands=10)
    assert str(caught.value) == "num_perm must be a multiple of bands"


def test_the_signature_of_a_text_is_the_one_persisted_by_earlier_releases() -> None:
    # a hasher made here, not at import: its random hash family is part of what is checked
    signature = MinHasher().signature(DARK)
    assert signature is not None and signature.dtype == np.uint64 and signature.shape == (64,)
    assert [int(v) for v in signature[:4]] == DARK_FIRST_VALUES


def test_the_band_keys_of_a_text_are_the_ones_in_the_persisted_index() -> None:
    hasher = MinHasher()
    assert hasher.band_keys(hasher.signature(DARK)) == DARK_BAND_KEYS  # type: ignore[arg-type]


def test_a_text_without_letters_has_no_signature_and_keeps_its_place_in_the_list() -> None:
    sigs = HASHER.signatures(["", DARK, "。。", DARK])
    assert len(sigs) == 4
    assert sigs[0] is None and sigs[2] is None
    assert HASHER.band_keys(sigs[1]) == DARK_BAND_KEYS and HASHER.band_keys(sigs[3]) == DARK_BAND_KEYS
    assert HASHER.signatures(["", "。"]) == [None, None]


def test_signatures_in_small_batches_are_the_same_signatures() -> None:
    sigs = HASHER.signatures([DARK, "", DARK, DARK, "。"], batch=2)
    assert [s is None for s in sigs] == [False, True, False, False, True]
    assert all(HASHER.band_keys(s) == DARK_BAND_KEYS for s in sigs if s is not None)


class _CountingNumpy:
    """numpy as neardup sees it, recording how many 3-grams each hashing operation (np.outer) takes."""

    def __init__(self) -> None:
        self.grams: list[int] = []

    def __getattr__(self, name: str) -> object:
        return getattr(np, name)

    def outer(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.grams.append(len(x))
        return np.outer(x, y)


def test_signatures_are_hashed_batch_texts_at_a_time_and_once_max_grams_grams_are_gathered(monkeypatch: pytest.MonkeyPatch) -> None:
    # DARK has 6 grams (路灯不 灯不亮 不亮晚 亮晚上 晚上很 上很黑); a text without letters counts towards `batch` but adds no gram
    counting = _CountingNumpy()
    monkeypatch.setattr(neardup, "np", counting)
    sigs = HASHER.signatures([DARK, "", DARK, DARK, "。"], batch=2)
    assert counting.grams == [6, 12]  # [DARK, ""], [DARK, DARK]; the last batch has no gram to hash
    assert [None if s is None else HASHER.band_keys(s) for s in sigs] == [DARK_BAND_KEYS, None, DARK_BAND_KEYS, DARK_BAND_KEYS, None]
    counting.grams.clear()
    sigs = HASHER.signatures([DARK, DARK, DARK], max_grams=6)  # 6 grams reach the bound: each text alone
    assert counting.grams == [6, 6, 6] and all(HASHER.band_keys(s) == DARK_BAND_KEYS for s in sigs)  # type: ignore[arg-type]
    counting.grams.clear()
    HASHER.signatures([DARK, DARK, DARK], max_grams=7)  # the bound is checked after a text: 12 grams, then the third's 6
    assert counting.grams == [12, 6]


def test_similarity_is_the_share_of_equal_values() -> None:
    assert MinHasher.similarity(np.array([1, 2, 3, 4], dtype=np.uint64), np.array([1, 2, 0, 4], dtype=np.uint64)) == 0.75


# ---- pairs (the quality figures) -------------------------------------------------------------------


def test_near_duplicate_pairs_are_found_and_different_matters_are_not() -> None:
    texts = [FLOOD, "再次反映：" + FLOOD, LAMP, "邻居们都很着急，" + FLOOD, "", LAMP_START]
    assert same_issue_pairs(texts, HASHER) == {(0, 1), (0, 3), (1, 3)}


def test_a_pair_needs_the_threshold_and_the_threshold_is_inclusive() -> None:
    texts = [FLOOD, "再次反映：" + FLOOD, FLOOD, LAMP, FLOOD]
    # identical texts have similarity exactly 1.0; the re-sent one is near, not identical
    assert same_issue_pairs(texts, HASHER, threshold=1.0) == {(0, 2), (0, 4), (2, 4)}


# ---- issues in the database ------------------------------------------------------------------------


@pytest.fixture
def session() -> Iterator[Session]:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def _orders(session: Session, *specs: tuple[str, datetime], street: str | None = "梨园镇", community: str | None = "云景里",
            category: list[str] | None = None) -> list[OrderText]:
    category = ["城乡建设", "市政设施", "道路积水"] if category is None else category
    start = session.query(WorkOrder).count()
    rows = [WorkOrder(ticket_no=f"T{start + i}", received_at=at, content_masked=text, street=street, community=community, category=category)
            for i, (text, at) in enumerate(specs)]
    session.add_all(rows)
    session.flush()
    return [OrderText(r.id, r.content_masked, street, community, category, r.received_at, None) for r in rows]


def _issues(session: Session) -> list[tuple[object, ...]]:
    return [tuple(row) for row in session.execute(select(
        Issue.id, Issue.issue_id, Issue.category, Issue.street, Issue.community, Issue.work_order_count, Issue.first_seen_at, Issue.last_seen_at,
    ).order_by(Issue.id))]


def test_an_issue_row_records_the_first_two_category_levels_place_count_and_time_span(session: Session) -> None:
    orders = _orders(session, (FLOOD, DAY0 + timedelta(days=2)), ("再次反映：" + FLOOD, DAY0), ("邻居们都很着急，" + FLOOD, DAY0 + timedelta(days=5)),
                     (LAMP, DAY0 + timedelta(days=1)))
    assert assign_issues(session, orders, HASHER) == {orders[0].id: 1, orders[1].id: 1, orders[2].id: 1, orders[3].id: 2}
    assert _issues(session) == [
        (1, "I0000001", ["城乡建设", "市政设施"], "梨园镇", "云景里", 3, DAY0, DAY0 + timedelta(days=5)),
        (2, "I0000002", ["城乡建设", "市政设施"], "梨园镇", "云景里", 1, DAY0 + timedelta(days=1), DAY0 + timedelta(days=1)),
    ]
    assert {wid: pk for wid, pk in session.execute(select(WorkOrder.id, WorkOrder.issue_pk))} == {orders[0].id: 1, orders[1].id: 1, orders[2].id: 1, orders[3].id: 2}
    assert session.scalar(select(Issue.signature).where(Issue.id == 1)) == [int(v) for v in HASHER.signature(FLOOD)]
    bands = {(band, pk) for band, pk in session.execute(select(IssueBand.band, IssueBand.issue_pk))}
    assert bands == {(k, 1) for k in HASHER.band_keys(HASHER.signature(FLOOD))} | {(k, 2) for k in HASHER.band_keys(HASHER.signature(LAMP))}


def test_a_later_batch_adds_to_the_count_and_widens_the_time_span_of_the_persisted_issue(session: Session) -> None:
    first = _orders(session, (FLOOD, DAY0), ("再次反映：" + FLOOD, DAY0 + timedelta(days=1)))
    assign_issues(session, first, HASHER)
    later = _orders(session, ("邻居们都很着急，" + FLOOD, DAY0 + timedelta(days=20)), (FLOOD, DAY0 - timedelta(days=3)))
    assert assign_issues(session, later, HASHER) == {later[0].id: 1, later[1].id: 1}
    assert _issues(session) == [(1, "I0000001", ["城乡建设", "市政设施"], "梨园镇", "云景里", 4, DAY0 - timedelta(days=3), DAY0 + timedelta(days=20))]
    assert session.scalar(select(WorkOrder.issue_pk).where(WorkOrder.id == later[1].id)) == 1


def test_a_work_order_without_category_makes_an_issue_without_category(session: Session) -> None:
    orders = _orders(session, (FLOOD, DAY0), category=[], community=None)
    assign_issues(session, orders, HASHER)
    assert _issues(session) == [(1, "I0000001", [], "梨园镇", None, 1, DAY0, DAY0)]


def test_work_orders_that_already_have_an_issue_are_left_alone(session: Session) -> None:
    orders = _orders(session, (FLOOD, DAY0))
    kept = OrderText(orders[0].id, FLOOD, "梨园镇", None, [], DAY0, issue_pk=7)
    assert assign_issues(session, [kept], HASHER) == {}
    assert _issues(session) == []


def test_sharing_one_band_is_not_enough_below_the_threshold(session: Session) -> None:
    orders = _orders(session, (LAMP, DAY0), (LAMP_START, DAY0 + timedelta(days=1)))
    assert assign_issues(session, orders, HASHER) == {orders[0].id: 1, orders[1].id: 2}


def test_the_threshold_is_inclusive(session: Session) -> None:
    orders = _orders(session, (FLOOD, DAY0), (FLOOD, DAY0 + timedelta(days=1)), ("再次反映：" + FLOOD, DAY0 + timedelta(days=1)))
    # identical text: similarity exactly 1.0 joins at threshold 1.0; the re-sent variant does not
    assert assign_issues(session, orders, HASHER, threshold=1.0) == {orders[0].id: 1, orders[1].id: 1, orders[2].id: 2}


def test_an_issue_outside_the_window_is_passed_over_for_a_later_one_inside_it(session: Session) -> None:
    first = _orders(session, (FLOOD, DAY0))
    assert assign_issues(session, first, HASHER) == {first[0].id: 1}
    second = _orders(session, (FLOOD, DAY0 + timedelta(days=40)))
    assert assign_issues(session, second, HASHER) == {second[0].id: 2}
    # issue 1 (last seen DAY0) is found first in every band and is 45 days away; issue 2 is 5 days away
    third = _orders(session, (FLOOD, DAY0 + timedelta(days=45)))
    assert assign_issues(session, third, HASHER) == {third[0].id: 2}


@pytest.mark.parametrize(("ends_and_starts", "winner"), [(1, 1), (2, 2)])
def test_of_issues_scoring_the_same_the_one_met_last_in_the_order_s_bands_wins(session: Session, ends_and_starts: int, winner: int) -> None:
    """Two issues with the order's very signature: one holds bands 00 and 15, the other 01–14. Scored once each, in the order of
    their last band, the one with band 15 wins (the one met first, in band 00, would win if they were taken in the order first met)."""
    signature = _ref_signature(FLOOD)
    keys = _ref_band_keys(signature)
    connection = session.connection()
    connection.execute(insert(Issue.__table__), [
        {"id": pk, "issue_id": f"I{pk:07d}", "category": [], "street": "梨园镇", "signature": signature, "work_order_count": 1,
         "first_seen_at": DAY0, "last_seen_at": DAY0} for pk in (1, 2)])
    other = 3 - ends_and_starts
    connection.execute(insert(IssueBand.__table__), [{"band": k, "issue_pk": ends_and_starts} for k in (keys[0], keys[15])]
                       + [{"band": k, "issue_pk": other} for k in keys[1:15]])
    (order,) = _orders(session, (FLOOD, DAY0 + timedelta(days=1)))
    assert assign_issues(session, [order], HASHER) == {order.id: winner}
    assert [(pk, n) for pk, *_, n, _, _ in _issues(session)] == [(1, 2 if winner == 1 else 1), (2, 2 if winner == 2 else 1)]


def test_with_a_single_band_a_later_identical_text_still_finds_its_issue(session: Session) -> None:
    one_band = MinHasher(num_perm=4, bands=1)
    first = _orders(session, (FLOOD, DAY0))
    later = _orders(session, (FLOOD, DAY0 + timedelta(days=1)))
    assert assign_issues(session, first, one_band) == {first[0].id: 1}
    assert assign_issues(session, later, one_band) == {later[0].id: 1}


def test_band_keys_and_issues_are_looked_up_2000_at_a_time_each_once(session: Session) -> None:
    """126 texts × 16 bands = 2016 band keys, each the band of its own issue: two band queries and two issue queries."""
    rnd = random.Random(7)
    texts = ["".join(chr(rnd.randint(0x4E00, 0x9FA5)) for _ in range(8)) for _ in range(126)]
    keys = [k for sig in HASHER.signatures(texts) for k in HASHER.band_keys(sig)]  # type: ignore[arg-type]
    assert len(set(keys)) == 2016
    connection = session.connection()
    connection.execute(insert(Issue.__table__), [
        {"id": i + 1, "issue_id": f"I{i + 1:07d}", "category": [], "signature": [0] * 64, "work_order_count": 1,
         "first_seen_at": DAY0, "last_seen_at": DAY0} for i in range(2016)])
    connection.execute(insert(IssueBand.__table__), [{"band": k, "issue_pk": i + 1} for i, k in enumerate(keys)])
    asked: dict[str, list[list[object]]] = {"issue_bands": [], "issues": []}

    def record(conn: object, cursor: object, statement: str, parameters: object, context: object, executemany: bool) -> None:
        for table in asked:
            if statement.startswith("SELECT") and f"FROM {table} " in statement + " ":
                asked[table].append(list(parameters))  # type: ignore[call-overload]

    event.listen(session.get_bind(), "before_cursor_execute", record)
    try:
        orders = [OrderText(100_000 + i, text, None, None, [], DAY0, None) for i, text in enumerate(texts)]
        result = assign_issues(session, orders, HASHER)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", record)
    # every stored issue is a candidate of some order (it shares a band) but none is similar: 126 new issues
    assert result == {100_000 + i: 2017 + i for i in range(126)}
    assert [len(p) for p in asked["issue_bands"]] == [2000, 16]
    assert sorted(k for p in asked["issue_bands"] for k in p) == sorted(keys)  # type: ignore[type-var]
    assert [len(p) for p in asked["issues"]] == [2000, 16]
    assert sorted(pk for p in asked["issues"] for pk in p) == list(range(1, 2017))  # type: ignore[type-var]


# ---- signatures stored with the work order (normalization packs, routing unpacks) ------------------


def test_a_packed_signature_unpacks_to_the_signature_and_band_keys_pinned_above() -> None:
    packed = HASHER.pack([DARK, "。。", ""])
    assert [len(p) for p in packed] == [64 * 8 + 16 * 8, 0, 0]
    signature, keys = HASHER.unpack(packed[0])  # type: ignore[misc]
    assert signature[:4].tolist() == DARK_FIRST_VALUES and keys == DARK_BAND_KEYS
    assert HASHER.unpack(b"") is None


def test_a_packed_value_of_another_hasher_is_refused() -> None:
    with pytest.raises(ValueError) as caught:
        HASHER.unpack(MinHasher(num_perm=32, bands=8).pack([DARK])[0])
    assert "320 bytes" in str(caught.value) and "640" in str(caught.value)


def test_routing_uses_the_signature_normalization_stored_not_the_text(session: Session) -> None:
    # The second order's text is LAMP, but the signature stored with it is FLOOD's: it joins FLOOD's issue.
    flood, lamp = _orders(session, (FLOOD, DAY0), (LAMP, DAY0))
    lamp.minhash = HASHER.pack([FLOOD])[0]
    assert assign_issues(session, [flood, lamp], HASHER) == {flood.id: 1, lamp.id: 1}
    # A stored b"" (a text without letters) founds no issue, whatever the text.
    (blank,) = _orders(session, (LAMP, DAY0))
    blank.minhash = b""
    assert assign_issues(session, [blank], HASHER) == {}


def test_with_write_orders_false_the_work_orders_are_left_to_the_caller(session: Session) -> None:
    orders = _orders(session, (FLOOD, DAY0), (LAMP, DAY0))
    assert assign_issues(session, orders, HASHER, write_orders=False) == {orders[0].id: 1, orders[1].id: 2}
    assert [pk for (pk,) in session.execute(select(WorkOrder.issue_pk).order_by(WorkOrder.id))] == [None, None]
    assert session.query(Issue).count() == 2


def test_orders_put_in_one_call_or_in_several_in_turn_join_the_same_issues(session: Session) -> None:
    # Chunk-by-chunk assignment (gateway/pipeline/assign.py) relies on it: the real board's 4,143 messages (many
    # about the same matters), in one call and in calls of 50 and of 7.
    from tests.helpers.board import load_board

    texts = [m["text"] for m in load_board()]
    at = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    partitions = []
    for size in (len(texts), 50, 7):
        engine = make_engine("sqlite://")
        Base.metadata.create_all(engine)
        with Session(engine) as s:
            orders = _orders(s, *((text, at) for text in texts), street=None)
            found: dict[int, int] = {}
            for start in range(0, len(orders), size):
                found.update(assign_issues(s, orders[start:start + size], HASHER))
            members: dict[int, list[int]] = {}
            for order in orders:
                members.setdefault(found.get(order.id, -order.id), []).append(order.id)
            partitions.append(sorted(members.values()))
        engine.dispose()
    assert partitions[0] == partitions[1] == partitions[2]
    assert len(partitions[0]) < len(texts) - 100  # there were near duplicates to join


def test_an_order_as_close_to_two_issues_joins_the_same_one_whether_they_were_founded_in_its_call_or_before(session: Session) -> None:
    # Two issues founded by one text in two streets; an order of that text with no street is as close to both.
    # In one call or in three, it joins the later founded (the one met last among equally close ones).
    outcomes = []
    for split in (False, True):
        engine = make_engine("sqlite://")
        Base.metadata.create_all(engine)
        with Session(engine) as s:
            a = _orders(s, (FLOOD, DAY0), street="梨园镇")
            b = _orders(s, (FLOOD, DAY0), street="永顺镇")
            c = _orders(s, (FLOOD, DAY0), street=None)
            calls = [a, b, c] if split else [a + b + c]
            found: dict[int, int] = {}
            for orders in calls:
                found.update(assign_issues(s, orders, HASHER))
            outcomes.append((found[a[0].id], found[b[0].id], found[c[0].id]))
        engine.dispose()
    assert outcomes[0] == outcomes[1] == (1, 2, 2)


def test_assign_counted_counts_the_orders_that_joined_an_issue_there_before_or_founded_by_a_fellow(session: Session) -> None:
    first = _orders(session, (FLOOD, DAY0))
    assert assign_counted(session, first, HASHER) == ({first[0].id: 1}, 0)  # it founded its issue: not a near duplicate
    # One joins the issue of before, one founds a new issue, one joins that new one: two near duplicates.
    again, lamp, lamp_again = _orders(session, ("再次反映：" + FLOOD, DAY0), (LAMP, DAY0), ("再次反映：" + LAMP, DAY0))
    issues, near = assign_counted(session, [again, lamp, lamp_again], HASHER)
    assert issues == {again.id: 1, lamp.id: 2, lamp_again.id: 2} and near == 2
    # The caller writes the work orders (write_orders=False), and orders that have an issue are not looked at.
    assert [pk for (pk,) in session.execute(select(WorkOrder.issue_pk).order_by(WorkOrder.id))] == [None, None, None, None]
    lamp.issue_pk = 2
    assert assign_counted(session, [lamp], HASHER) == ({}, 0)
