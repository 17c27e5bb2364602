"""Topic discovery in parts: places found in the text, the join on matter and place, hotness, the topic index."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.pipeline.topics.cluster import cluster
from gateway.pipeline.topics.hotness import busiest_week_share, hotness
from gateway.pipeline.topics.text import Analyser, place_candidates, place_key


def test_places_are_found_by_their_suffix_and_cut_where_a_phrase_begins() -> None:
    assert "魏家坡小区" in place_candidates("投诉A市A3区魏家坡小区附近违建搅拌站")
    assert "云景里小区" in place_candidates("小区门口积水，反映云景里小区东门")
    assert "金鼎村" in place_candidates("反映A7县春华镇金鼎村水泥路问题")
    # Ordinary phrases before a suffix name no place.
    assert place_candidates("这种情况下小区业主很无奈，严重影响小区居民休息") == []
    assert place_candidates("我们小区物业公司不作为") == []
    assert place_key("魅力之城小区") == "魅力之城" and place_key("云景里社区") == "云景里" and place_key("新城") == "新城"


def test_a_place_named_without_its_suffix_is_still_that_place() -> None:
    analyser = Analyser()
    analyser.learn_from(["投诉丽发新城小区旁边的搅拌站", "丽发新城小区夜里施工"])
    assert analyser.analyse("丽发新城这边晚上太吵了").places == ("丽发新城",)


def test_one_matter_at_one_place_is_joined_and_the_same_matter_elsewhere_is_not() -> None:
    texts = [
        "投诉A3区魏家坡小区附近违建搅拌站，彻夜施工，噪音粉尘扰民。",
        "A3区魏家坡小区旁边的搅拌站晚上吵得睡不着，粉尘很大。",
        "魏家坡小区东侧搅拌站夜间出车，噪音扰民，请环保部门查处。",
        "A5区芙蓉花园小区旁边的搅拌站晚上噪音很大，粉尘扰民。",
        "A5区芙蓉花园小区附近搅拌站彻夜施工，严重扰民。",
        "A3区魏家坡小区物业擅自涨停车费。",
    ]
    analyser = Analyser()
    analyser.learn_from(texts)
    labels = cluster([analyser.analyse(t) for t in texts]).labels.tolist()
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4] != labels[0]  # the same matter at another estate is another topic
    assert labels[5] not in (labels[0], labels[3])  # another matter at the same estate too


def test_near_duplicates_are_never_cut_apart() -> None:
    analyser = Analyser()
    texts = ["路灯不亮", "今天天气很好，孩子上学"]
    labels = cluster([analyser.analyse(t) for t in texts], atoms=[7, 7]).labels.tolist()
    assert labels[0] == labels[1]


def test_hotness_follows_its_formula() -> None:
    # 10·(ln 11 + ½ln 11 + ½ln 1)·(½+½·1)·(¾+¼·1)·(1+¼·1) for 10 work orders, 10 citizens, all at one place, in one week, new
    assert hotness(work_orders=10, citizens=10, support=0, place_share=1.0, time_share=1.0, previous=None) == 45.0
    # Growth is clamped: from 1 to 10 (log2(11/2) = 2.46 → 2) counts 1.5×, shrinking counts 1×.
    grown = hotness(work_orders=10, citizens=10, support=0, place_share=1.0, time_share=1.0, previous=1)
    shrunk = hotness(work_orders=10, citizens=10, support=0, place_share=1.0, time_share=1.0, previous=30)
    assert grown == 54.0 and shrunk == 36.0
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert busiest_week_share([start, start + timedelta(days=1), start + timedelta(days=30)]) == 2 / 3
