from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from io import BytesIO

from openpyxl import load_workbook

from gateway.pipeline.clues import group_into_topics, trend
from gateway.pipeline.orders import RoutedOrder
from gateway.delivery.packet_email import ClueView, PacketView, render_email
from gateway.periods import period_label
from gateway.pipeline.route import message_id, packet_subject
from gateway.pipeline.routing_rules import bundled_routing_path, load_routing

ROUTING = load_routing(bundled_routing_path())


def order(n: int, category: tuple[str, ...], street: str = "梨园镇", caller: str | None = None, issue: int | None = None) -> RoutedOrder:
    return RoutedOrder(n, f"T{n}", category, street, "云景里社区", f"诉求{n}", caller if caller is not None else f"c{n}",
                       issue_pk=issue, committee_id=ROUTING.route(category, f"诉求{n}", street) if category else None)


def test_topics_are_settled_on_a_committee_and_typed_by_their_features() -> None:
    # Topic labels as the clustering would give them: 0 flooding (12), 1 property management in 4 towns (5),
    # 2 kindergarten places (2), 3 one lone complaint, 4 two unroutable ones.
    orders = [order(i, ("城乡建设", "市政设施", "道路积水"), street="梨园镇" if i < 10 else "永顺镇", issue=1 if i < 8 else None) for i in range(12)]
    orders += [order(100 + i, ("城乡建设", "住房保障", "物业管理"), street=town) for i, town in enumerate(["永顺镇", "宋庄镇", "台湖镇", "台湖镇", "梨园镇"])]
    orders += [order(200, ("教育文体", "教育")), order(201, ("教育文体", "教育"))]
    orders += [order(250, ("民政",))]
    orders += [order(300, ()), order(301, ())]
    labels = [0] * 12 + [1] * 5 + [2] * 2 + [3] + [4] * 2
    drafts = group_into_topics(orders, labels, ROUTING, keywords={0: ["积水", "道路"]})
    flood = drafts[0]
    assert flood.committee_id == "urban" and not flood.triage
    assert flood.count == 12 and flood.issues() == 5  # 8 near-duplicates are one issue
    assert flood.classify(ROUTING, urgent=False, previous=None) == ("consultation_topic", "诉求集中：梨园镇10件，占83%，属群众反映强烈的局部公共问题")
    assert drafts[1].classify(ROUTING, urgent=False, previous=None) == ("proposal", "分布在4个街镇，共5件，属面上共性问题，宜从政策层面研究")
    education = drafts[2]
    assert education.committee_id == "education"
    assert education.classify(ROUTING, urgent=False, previous=None) == ("public_opinion", "本期新出现的问题，需关注苗头")
    assert education.classify(ROUTING, urgent=False, previous=2) == ("public_opinion", "持续反映的问题")
    assert education.classify(ROUTING, urgent=False, previous=1) == ("public_opinion", "较上期明显上升（1件→2件），呈蔓延趋势")
    assert drafts[3].classify(ROUTING, urgent=False, previous=None) is None  # one work order: routed, no clue
    assert drafts[4].triage and drafts[4].committee_id == "office"
    assert flood.title() == "梨园镇：积水、道路等问题"
    assert flood.score() > drafts[1].score()


def test_a_topic_is_not_cut_apart_by_committee() -> None:
    # Seven of ten work orders about one plant were filed under 环境保护, three under 城乡建设 and 教育文体 … one topic, shared.
    orders = [order(i, ("环境保护", "噪声污染")) for i in range(7)] + [order(10 + i, ("教育文体", "教育")) for i in range(3)]
    (draft,) = group_into_topics(orders, [0] * 10, ROUTING).values()
    assert draft.committee_id == "urban" and draft.shared_with == ["education"] and draft.count == 10


def test_keyword_and_place_rules_come_first() -> None:
    assert ROUTING.route(("教育文体", "教育"), "学校门口占道施工，消防通道被堵", "永顺镇") == "urban"
    assert ROUTING.route(("教育文体", "教育"), "幼儿园学位不足", "永顺镇") == "education"


def test_workstations_by_place_then_sector() -> None:
    urban = ROUTING.committee("urban")
    assert urban.stations_for({"梨园镇"}, "城乡建设") == ["梨园镇委员工作站", "城建界别活动组"]
    assert urban.stations_for({"宋庄镇"}, "环境保护") == ["环资界别活动组"]


def test_urgent_clues_are_public_opinion_information() -> None:
    (draft,) = group_into_topics([order(i, ("城乡建设", "市政设施")) for i in range(20)], [0] * 20, ROUTING).values()
    assert draft.classify(ROUTING, urgent=True, previous=None) == ("public_opinion", "突发性重点问题，及时报送")


def test_citizens_are_counted_by_phone_key() -> None:
    (draft,) = group_into_topics([order(1, ("民政",), caller="same"), order(2, ("民政",), caller="same"), order(3, ("民政",), caller="")], [0] * 3, ROUTING).values()
    assert draft.citizens() == 2


def test_trend_wording() -> None:
    assert trend(5, None) == "本期新出现"
    assert trend(7, 5) == "较上期增加2件（上期5件）"
    assert trend(3, 5) == "较上期减少2件（上期5件）"
    assert trend(5, 5) == "与上期持平（5件）"


def test_subject_and_period_labels_as_the_contract_shows() -> None:
    label = period_label("weekly", date(2026, 11, 16), None)
    assert packet_subject(label, "城建环保委", 12, urgent=False) == "【线索包】2026年第47周 · 城建环保委 · 12条线索"
    assert period_label("monthly", date(2026, 11, 1), None) == "2026年11月"
    assert period_label("urgent", None, datetime(2026, 11, 22, 14, 0, tzinfo=UTC)) == "突发性重点问题（2026年11月22日）"


def _view() -> PacketView:
    clue = ClueView(
        clue_id="C000001-001", type_name="提案线索", title="城乡建设·市政设施：梨园镇3件诉求", committee="城建环保委", copy=False,
        triage=False, work_orders=3, citizens=3, issues=2, reason="分布在3个街镇", score=4.5, places="梨园镇（3件）", period="2026年第47周", trend="本期新出现",
        samples=["我叫王某某，电话138****5678，门口积水<b>"], ticket_nos=["T1", "T2", "T3"], workstations=["梨园镇委员工作站"],
    )
    return PacketView(
        packet_id="P000001-urban", revision=1, subject="【线索包】2026年第47周 · 城建环保委 · 1条线索", committee_name="城建环保委员会",
        committee_short="城建环保委", report_id="TZ-2026-W47", report_kind="周报", report_title=None, report_summary=None,
        period="2026年第47周", urgent=False, created_on="2026年11月23日", clues=[clue],
    )


def test_packet_email_has_chinese_subject_text_html_and_xlsx() -> None:
    view = _view()
    msg = render_email(view, sender="gw <gw@localhost>", recipients=["a@zx.example"], message_id=message_id(view.packet_id, 1, "gw.test"), date=datetime(2026, 11, 23, tzinfo=UTC))
    raw = bytes(msg)
    assert b"=?utf-8?" in raw.split(b"\n\n", 1)[0]  # RFC 2047 encoded subject
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == view.subject
    assert parsed["Message-ID"] == "<P000001-urban.r1@gw.test>"
    text = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "城建环保委员会：" in text and "提案线索" in text and "T1、T2、T3" in text
    assert "&lt;b&gt;" in html and "<b>" not in html.split("门口积水")[1][:5]  # complaint text is escaped
    assert "http" not in html.lower().replace("http-equiv", "")  # no external images or links
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "线索包-城建环保委-2026年第47周.xlsx"
    sheet = load_workbook(BytesIO(attachment.get_content())).active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:3] == ["线索编号", "线索类型", "标题"]
    assert sheet.cell(row=2, column=1).value == "C000001-001"
    assert sheet.cell(row=2, column=15).value == "T1、T2、T3"
    assert sheet.cell(row=2, column=4).value == "分布在3个街镇"


def test_a_topic_of_only_questions_forms_no_clue_but_questions_count_beside_complaints() -> None:
    from dataclasses import replace

    questions = [replace(order(i, ("民政",)), inquiry=True) for i in range(5)]
    (alone,) = group_into_topics(questions, [0] * 5, ROUTING).values()
    assert alone.count == 5 and alone.classify(ROUTING, urgent=False, previous=None) is None
    mixed = questions[:4] + [order(9, ("民政",))]
    (together,) = group_into_topics(mixed, [0] * 5, ROUTING).values()
    assert together.count == 5 and together.classify(ROUTING, urgent=False, previous=None) is not None
