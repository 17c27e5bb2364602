import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import WorkOrderRecord
from gateway.pipeline.classifier import CategoryClassifier
from gateway.pipeline.gazetteer import Gazetteer
from gateway.pipeline.neardup import MinHasher
from gateway.pipeline.normalize import Normalizer
from gateway.pipeline.taxonomy import Taxonomy

TAXONOMY = Taxonomy.load()
NORMALIZER = Normalizer(taxonomy=TAXONOMY, gazetteer=Gazetteer.load(), classifier=CategoryClassifier.load(), citizen_secret=b"k")


def record(**fields: object) -> WorkOrderRecord:
    return WorkOrderRecord.model_validate({"ticket_no": "T1", "received_at": "2026-11-16T09:00:00", "content": "路灯不亮", **fields})


def test_taxonomy_mapping_with_synonyms_second_levels_and_meaningless_words() -> None:
    assert TAXONOMY.map(["城乡建设", "市政设施", "道路积水"]).path == ["城乡建设", "城市建设和市政管理", "道路积水"]
    assert TAXONOMY.map(["城乡建设", "市政设施", "道路积水"]).unmapped == ["道路积水"]
    assert TAXONOMY.map(["城市建设和市政管理"]).path == ["城乡建设", "城市建设和市政管理"]
    assert TAXONOMY.map(["其他"]).empty
    assert TAXONOMY.map(["火星事务"]).unmapped == ["火星事务"]


def test_traditional_chinese_is_simplified_and_full_width_folded() -> None:
    n = NORMALIZER.record(record(content="學校門口擁堵，ＡＢＣ１２３號樓", category=["教育文體"]))
    assert n.content_masked == "学校门口拥堵，ABC123号楼"
    assert n.category == ["教育文体"]


def test_status_and_satisfaction_onto_fixed_words() -> None:
    n = NORMALIZER.record(record(status="已办结", satisfaction="基本满意"))
    assert (n.status, n.satisfaction) == ("closed", "basically_satisfied")
    assert NORMALIZER.record(record(status="挂起")).status == "other"


def test_place_from_the_address_when_the_fields_are_missing() -> None:
    n = NORMALIZER.record(record(address="云景里小区12号楼东侧", content="门口积水"))
    assert (n.district, n.street, n.community) == ("通州区", "梨园镇", "云景里社区")
    given = NORMALIZER.record(record(district="某区", street="某街道", content="永顺镇"))
    assert (given.district, given.street) == ("某区", "某街道")  # what was sent is kept


def test_missing_category_is_inferred_with_a_confidence() -> None:
    n = NORMALIZER.record(record(content="孩子所在小学的老师违规补课收费，学校教育局不管", channel="web"))
    assert n.category_inferred and n.category == ["教育文体"]
    assert n.category_confidence is not None and 0 < n.category_confidence <= 1
    sent = NORMALIZER.record(record(category=["卫生计生"]))
    assert not sent.category_inferred and sent.category_confidence is None


def test_near_identical_texts_share_most_of_their_minhash() -> None:
    hasher = MinHasher()
    a = hasher.signature("云景里小区门口道路积水严重，一下雨就没过脚踝，已经好几年了，希望彻底解决排水问题。")
    b = hasher.signature("再次反映：云景里小区门口道路积水严重，一下雨就没过脚踝，已经好几年了，希望彻底解决排水问题。电话138****5678")
    c = hasher.signature("永顺南里小区供暖温度不达标，家里只有十五度左右，好多邻居都反映了。")
    assert a is not None and b is not None and c is not None
    assert hasher.similarity(a, b) >= 0.6 > hasher.similarity(a, c)
    assert set(hasher.band_keys(a)) & set(hasher.band_keys(b))
    # signatures do not depend on the process (crc32, a fixed seed): the index can persist
    assert MinHasher().signature("云景里小区门口道路积水严重").tolist() == hasher.signature("云景里小区门口道路积水严重").tolist()  # type: ignore[union-attr]


def test_a_caller_named_only_in_the_caller_field_is_masked() -> None:
    # No cue (我叫, 姓名, 联系人 …) names her in the text: only the caller field says who she is.
    n = NORMALIZER.record(record(content="赵丽华反映小区路灯不亮，晚上出行不安全，赵丽华希望尽快修复。", address="赵丽华家楼下",
                                 caller={"name": "赵丽华", "phone": "13912345678"}))
    assert n.content_masked == "赵某某反映小区路灯不亮，晚上出行不安全，赵某某希望尽快修复。"
    assert n.address == "赵某某家楼下"
    assert n.caller_masked == "赵某某"
    # without the caller field the lexical analyser (rjieba's person-name tag) still finds her
    assert NORMALIZER.record(record(content="赵丽华反映小区路灯不亮。")).content_masked == "赵某某反映小区路灯不亮。"


# Hand-picked: what the shipped classifier is unsure of (well under 0.5) and sure of (well over it).
UNSURE = ["喂喂", "嗯嗯，好的", "喂喂，请回电"]
CONFIDENT = {
    "孩子所在小学的老师违规补课收费，学校和教育局都不管": ["教育文体"],
    "拖欠工资三个月，老板一直不给": ["劳动和社会保障"],
    "小区门口道路积水严重，一下雨就没过脚踝": ["城乡建设"],
}


def test_the_category_confidence_threshold_defaults_to_one_half() -> None:
    from gateway.settings import Settings

    assert Settings().category_min_confidence == 0.5
    assert NORMALIZER.min_confidence == 0.5


@pytest.mark.parametrize("content", UNSURE)
def test_an_unsure_inferred_category_is_not_routable_at_the_default_threshold(content: str) -> None:
    n = NORMALIZER.record(record(content=content, category=[]))
    assert n.category_inferred and len(n.category) == 1  # the guess is kept for the office to see
    assert NORMALIZER.routable_category(n) == []  # … but the order goes to triage


@pytest.mark.parametrize("content", sorted(CONFIDENT))
def test_a_confident_inferred_category_is_routable_at_the_default_threshold(content: str) -> None:
    n = NORMALIZER.record(record(content=content, category=["其他"]))
    assert n.category_inferred and n.category == CONFIDENT[content]
    assert NORMALIZER.routable_category(n) == CONFIDENT[content]


# A Beijing 12345 platform's first levels and the committee DOMAIN.md's table gives each (written from the table, by hand).
BEIJING_FIRST_LEVELS = [
    ("企业服务", "economy"), ("劳动和社会保障", "society"), ("住房", "urban"), ("科体文宣", "education"), ("民政事务", "society"),
    ("教育", "education"), ("交通管理", "urban"), ("退役军人事务", "society"), ("城市管理", "urban"), ("生态环境", "urban"),
    ("农林水务", "agriculture"), ("医疗卫生健康", "education"), ("公共安全", "society"),
]


@pytest.mark.parametrize(("first_level", "committee"), BEIJING_FIRST_LEVELS)
def test_a_beijing_platforms_first_level_goes_to_its_committee(first_level: str, committee: str) -> None:
    from gateway.pipeline.routing_rules import bundled_routing_path, load_routing

    routing = load_routing(bundled_routing_path())
    n = NORMALIZER.record(record(category=f"{first_level}->某二级分类->某三级分类", content="请有关部门尽快处理"))
    assert not n.category_inferred and n.excluded_reason is None
    assert routing.route(tuple(NORMALIZER.routable_category(n)), n.content_masked, None) == committee


def test_a_discipline_report_of_that_platform_is_excluded() -> None:
    n = NORMALIZER.record(record(category="违纪举报->违纪违法->其他", content="反映某单位工作人员违规吃喝"))
    assert n.excluded_reason == "discipline_inspection"


@pytest.mark.parametrize(("written", "kind"), [("咨询", "inquiry"), ("投诉", "complaint"), ("诉求", "request"), ("建议", "suggestion"),
                                               ("求助", "help"), ("举报", "report"), ("表扬", "praise"), ("其它类型", "other")])
def test_the_ticket_type_onto_fixed_words(written: str, kind: str) -> None:
    n = NORMALIZER.record(record(ticket_type=written))
    assert n.ticket_type == kind and n.inquiry == (kind == "inquiry")


def _clean_piece_by_piece(text: str) -> str | None:
    """clean() as first written: NFKC of each piece between the Chinese punctuation (the reference for the fast path)."""
    import re
    import unicodedata

    from gateway.pipeline.normalize import _CJK_PUNCTUATION

    text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]", "", text)
    parts = _CJK_PUNCTUATION.split(text)
    text = "".join(part if i % 2 else unicodedata.normalize("NFKC", part) for i, part in enumerate(parts))
    return " ".join(text.split()) or None


_PIECES = "，。！？：；（）、《》【】“”‘’…—～ＡＢ１２①﹑ｶﾞ가\u1161\u0301\u0327e \t\u3000\x07" + "\U000F0000\U000F0003\U000F0013" + "反映小区路灯"


@given(st.text(alphabet=st.sampled_from(_PIECES), max_size=30) | st.text(max_size=30))
@settings(max_examples=400, deadline=None)
def test_cleaning_folds_a_text_as_folding_it_piece_by_piece_would(text: str) -> None:
    from gateway.pipeline.normalize import clean

    assert clean(text) == _clean_piece_by_piece(text)


def test_chinese_punctuation_is_kept_and_the_rest_folded() -> None:
    from gateway.pipeline.normalize import clean

    assert clean("ＡＢＣ１２３，你好。①﹑\u3000 ｶﾞ") == "ABC123，你好。1、 ガ"
    assert NORMALIZER.text("朝陽區") == NORMALIZER.text("朝陽區") == "朝阳区"  # the short-field cache gives what folding gives
