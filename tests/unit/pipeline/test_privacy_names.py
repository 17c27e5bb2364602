"""How the masker reads a person's name where a cue, a title or a list points at one (gateway/pipeline/privacy.py).

The helpers are tested one by one with what they must return: the whole name (its length read by the segmenter,
compound surnames included), nothing where the "name" is a word of the language, the other names of a 、 list.
"""
from __future__ import annotations

import pytest

from gateway.pipeline.privacy import _listed_with, _name_at, _name_before


@pytest.mark.parametrize(("text", "name"), [
    ("肖德华表示", "肖德华"), ("诸葛婷表示", "诸葛婷"), ("欧阳珍多次", "欧阳珍"), ("何爱民大爷", "何爱民"), ("叶波表示", "叶波"),
    ("苏定邦，", "苏定邦"), ("周淑珍", "周淑珍"), ("李坤可以", "李坤"),
    ("和居民都", None), ("曾多次向", None), ("物业经理", None), ("王说", None), ("张12", None),
])
def test_the_name_that_begins_here(text: str, name: str | None) -> None:
    assert _name_at(text, 0) == name


def test_the_name_is_read_where_it_begins_not_at_the_start_of_the_text() -> None:
    assert _name_at("反映人肖德华表示", 3) == "肖德华"
    assert _name_at("反映人肖德华表示", 2) is None  # 人 is no surname


@pytest.mark.parametrize(("text", "name"), [
    ("何爱民", "何爱民"), ("的姜斌", "姜斌"), ("莫雨萱", "莫雨萱"), ("周淑珍", "周淑珍"), ("我叫张三", "张三"),
    ("向领导", None), ("那么我", None), ("王", None), ("消费者", None), ("枢纽段确", None), ("公示中", None),
])
def test_the_name_that_ends_here(text: str, name: str | None) -> None:
    assert _name_before(text, len(text)) == name


def test_the_name_before_a_title_further_on() -> None:
    text = "楼下的姜斌阿姨说"
    assert _name_before(text, text.index("阿姨")) == "姜斌"


@pytest.mark.parametrize(("text", "found", "listed"), [
    ("刘楠、林雨果等人", {"刘楠"}, {"刘楠", "林雨果"}),
    ("林雨果、李玉", {"李玉"}, {"李玉", "林雨果"}),
    ("刘楠、林雨果、李玉", {"刘楠"}, {"刘楠", "林雨果", "李玉"}),
    ("对此刘楠、林雨果、李玉等人", {"李玉"}, {"刘楠", "林雨果", "李玉"}),
    ("刘楠说", {"刘楠"}, {"刘楠"}),
    ("刘楠，林雨果", {"刘楠"}, {"刘楠"}),
    ("刘楠、物业", {"刘楠"}, {"刘楠"}),
    ("、刘楠", {"刘楠"}, {"刘楠"}),
])
def test_names_listed_with_a_name(text: str, found: set[str], listed: set[str]) -> None:
    assert _listed_with(text, found) == listed
    assert found <= listed
