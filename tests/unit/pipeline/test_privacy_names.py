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


@pytest.mark.parametrize(("word", "after", "expected"), [
    ("覃学军", "", True), ("欧阳德胜", "", True), ("王一博", "", True), ("曾海德", "", True), ("尉迟珍", "", True),
    ("张三A", "", False), ("于娜", "", False), ("都需要", "", False), ("王明", "湾里", False), ("王明", "镇上", False),
])
def test_a_word_read_without_a_cue_is_a_name_only_if_it_looks_like_one(word: str, after: str, expected: bool) -> None:
    from gateway.pipeline.privacy import _person_like

    assert _person_like(word, after) is expected


@pytest.mark.parametrize(("word", "expected"), [
    ("诸葛婷", True), ("李四", True), ("于娜", True), ("王一博", True),  # after a cue 于 is a surname, 李四 (张三李四) a name
    ("李子", False), ("阳光", False), ("张贴", False), ("业主张三", False), ("都是外", False), ("从一年", False),
    ("王湾", False), ("张经理", False), ("欧阳德胜利", False),
])
def test_a_word_a_cue_points_at_is_a_name_unless_it_is_a_word_a_place_or_a_title(word: str, expected: bool) -> None:
    from gateway.pipeline.privacy import _plausible

    assert _plausible(word, "") is expected
    assert _plausible("王明", "镇上") is False  # 王明镇: a place


@pytest.mark.parametrize(("word", "expected"), [("居民", True), ("需要", True), ("多次", True), ("金山", False), ("淑珍", False), ("xx", False)])
def test_common_words_are_frequent_ones_not_tagged_as_names(word: str, expected: bool) -> None:
    from gateway.pipeline.privacy import _common_word

    assert _common_word(word) is expected


@pytest.mark.parametrize(("text", "names"), [("我父亲卢永琴今年七十", {"卢永琴"}), ("我爱人在家", set()), ("我父亲卢永在家", {"卢永"})])
def test_a_relatives_name(text: str, names: set[str]) -> None:
    from gateway.pipeline.privacy import _kin_names

    assert _kin_names(text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("谭超彬今年56岁", {"谭超彬"}),  # tagged nz, with what people do after it
    ("商转公，需要", set()), ("从彭浦到市区，王怀启说", {"王怀启"}),  # the analyser's guesses skipped, the name after them kept
    ("王怀启将门封堵，王怀启说", {"王怀启"}),
])
def test_names_the_analyser_tags(text: str, names: set[str]) -> None:
    from gateway.pipeline.privacy import _tagged_names

    assert _tagged_names(text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("业主关水限电，反映人肖德华表示", {"肖德华"}),  # a weak cue before a verb, then a strong one
    ("业主张建国反映", {"张建国"}), ("居民：张建国称", {"张建国"}), ("邻居：关水限电", set()),
    ("何爱民大爷，周淑珍经理", {"何爱民", "周淑珍"}), ("对此刘楠、李玉等人", {"李玉"}),
])
def test_names_a_cue_points_at(text: str, names: set[str]) -> None:
    from gateway.pipeline.privacy import _cued_names

    assert _cued_names(text) == names


@pytest.mark.parametrize(("text", "masked"), [
    ("王建国等居民反映楼道堆物严重", "王某某等居民反映楼道堆物严重"),  # 王建国 is in jieba's dictionary (nr, 12)
    ("王建国反映楼道堆物", "王某某反映楼道堆物"),
    ("我们张秀英等三户居民联名反映", "我们张某某等三户居民联名反映"),
    ("刘德华和王建国等邻居反映", "刘某某和王某某等邻居反映"),  # listed before a name found, with 和
])
def test_a_name_before_what_only_a_citizen_does_is_masked_even_when_the_dictionary_lists_it(text: str, masked: str) -> None:
    from gateway.pipeline.privacy import mask_text

    assert mask_text(text) == masked


@pytest.mark.parametrize("text", [
    "反映人管不了这个事",  # 管 is a surname, 管不了 a verb and its negation
    "我家请的钟点工说，噪音严重",  # 钟点工 is nr in jieba's dictionary (16): a trade
    "申请人表示不服",  # nr (128): who someone is in a case
    "这段时间反映的问题一直没有解决",  # 段时间 is read as a name (nr) here: a surname character before an everyday word
    "销售人员王某与本人一起实地测量",  # the citizen left the name out already
    "伍某及其母亲廖某签字同意了调解",  # 廖某签 is no name to mask: 签 would be lost
])
def test_what_only_looks_like_a_name_there_is_left_as_written(text: str) -> None:
    from gateway.pipeline.privacy import mask_text

    assert mask_text(text) == text


def test_a_name_read_forwards_from_he_counts_only_where_no_word_follows_it_at_once() -> None:
    assert _listed_with("徐萍和何绢却在12月份离婚", {"徐萍"}) == {"徐萍"}  # 何绢却 would eat 却
    assert _listed_with("肖德华与何梅咏（曹某的嫂子）", {"肖德华"}) == {"肖德华", "何梅咏"}
    assert _listed_with("刘德华和王建国等邻居", {"王建国"}) == {"刘德华", "王建国"}
