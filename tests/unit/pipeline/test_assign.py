"""What a chunk carries to issue assignment, and which of its tickets it leaves to a later chunk."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from gateway.intake.receive import repeated_later
from gateway.pipeline.assign import pack_signatures, unpack_signatures
from gateway.pipeline.neardup import HASHER

AT = datetime(2026, 11, 20, 8, 30, tzinfo=timezone(timedelta(hours=8)))


def test_signatures_read_back_as_packed_in_order_a_text_without_letters_included() -> None:
    texts = ["云景里小区门口道路积水严重", "？？？", "永顺南里小区供暖温度不达标"]
    packed = HASHER.pack(texts)
    blob = pack_signatures([(7, "梨园镇", "云景里社区", ["城乡建设", "市政设施"], AT, packed[0]), (3, None, None, [], AT, packed[1]),
                            (9, "永顺镇", None, ["城乡建设"], AT + timedelta(days=1), packed[2])])
    orders = unpack_signatures(blob)
    assert [(o.id, o.street, o.community, o.category, o.received_at, o.minhash, o.issue_pk) for o in orders] == [
        (7, "梨园镇", "云景里社区", ["城乡建设", "市政设施"], AT, packed[0], None), (3, None, None, [], AT, b"", None),
        (9, "永顺镇", None, ["城乡建设"], AT + timedelta(days=1), packed[2], None)]
    assert HASHER.unpack(orders[2].minhash)[1] == HASHER.band_keys(HASHER.signature(texts[2]))  # type: ignore[index]


def test_signatures_cut_short_are_refused() -> None:
    blob = pack_signatures([(1, None, None, [], AT, HASHER.pack(["小区供暖温度不达标"])[0])])
    with pytest.raises(ValueError, match="640"):
        unpack_signatures(blob[:-8])


def test_a_ticket_a_later_chunk_has_again_is_left_to_the_last_chunk_that_has_it() -> None:
    # chunks of 3: [A B C] [D A E] [A F B] [G]
    tickets = ["A", "B", "C", "D", "A", "E", "A", "F", "B", "G"]
    assert repeated_later([hash(t) for t in tickets], 3) == {0: [0, 1], 1: [4]}
    # twice in one chunk is not "later"; one chunk has no later one
    assert repeated_later([hash(t) for t in ["A", "A", "B", "C"]], 2) == {}
    assert repeated_later([hash(t) for t in ["A", "A", "A"]], 5) == {}
