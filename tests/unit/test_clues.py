from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from io import BytesIO

from openpyxl import load_workbook

from gateway.clues import RoutedOrder, group_into_clues, trend
from gateway.packets import ClueView, PacketView, render_email
from gateway.periods import period_label
from gateway.route import message_id, packet_subject
from gateway.routing import bundled_routing_path, load_routing

ROUTING = load_routing(bundled_routing_path())


def order(n: int, category: tuple[str, ...], street: str = "梨园镇", caller: str | None = None, issue: int | None = None) -> RoutedOrder:
    return RoutedOrder(n, f"T{n}", category, street, "云景里社区", f"诉求{n}", caller if caller is not None else f"c{n}",
                       issue_pk=issue, committee_id=ROUTING.route(category, f"诉求{n}", street) if category else None)


def test_orders_are_grouped_into_topics_and_typed_by_the_rules() -> None:
    orders = [order(i, ("城乡建设", "市政设施", "道路积水"), street="梨园镇" if i < 10 else "永顺镇", issue=1 if i < 8 else None) for i in range(12)]
    orders += [order(100 + i, ("城乡建设", "住房保障", "物业管理"), street=town) for i, town in enumerate(["永顺镇", "宋庄镇", "台湖镇", "台湖镇", "梨园镇"])]
    orders += [order(200, ("教育文体", "教育")), order(201, ("教育文体", "教育"))]
    orders += [order(250, ("民政",))]
    orders += [order(300, ("纪检监察",)), order(301, ())]
    drafts = {(d.committee_id, d.category): d for d in group_into_clues(orders, ROUTING)}
    flood = drafts[("urban", ("城乡建设", "市政设施"))]
    assert flood.count == 12 and flood.issues() == 5  # 8 near-duplicates are one issue
    assert flood.classify(ROUTING, urgent=False, previous=None)[0] == "consultation_topic"  # type: ignore[index]
    assert "梨园镇10件，占83%" in flood.classify(ROUTING, urgent=False, previous=None)[1]  # type: ignore[index]
    assert drafts[("urban", ("城乡建设", "住房保障"))].classify(ROUTING, urgent=False, previous=None)[0] == "proposal"  # type: ignore[index]
    assert drafts[("education", ("教育文体", "教育"))].classify(ROUTING, urgent=False, previous=None)[0] == "public_opinion"  # type: ignore[index]
    assert drafts[("education", ("教育文体", "教育"))].classify(ROUTING, urgent=False, previous=2)[1] == "持续反映的问题"  # type: ignore[index]
    assert drafts[("education", ("教育文体", "教育"))].classify(ROUTING, urgent=False, previous=1)[1].startswith("较上期明显上升")  # type: ignore[index]
    assert drafts[("society", ("民政",))].classify(ROUTING, urgent=False, previous=None) is None  # one work order: routed, no clue
    triage = [d for d in drafts.values() if d.triage]
    assert {d.committee_id for d in triage} == {"office"}
    assert sum(d.count for d in triage) == 2
    assert flood.title() == "城乡建设·市政设施·道路积水：梨园镇等2个街镇12件诉求"
    assert flood.score() > drafts[("urban", ("城乡建设", "住房保障"))].score()


def test_keyword_and_place_rules_come_first() -> None:
    assert ROUTING.route(("教育文体", "教育"), "学校门口占道施工，消防通道被堵", "永顺镇") == "urban"
    assert ROUTING.route(("教育文体", "教育"), "幼儿园学位不足", "永顺镇") == "education"


def test_workstations_by_place_then_sector() -> None:
    urban = ROUTING.committee("urban")
    assert urban.stations_for({"梨园镇"}, "城乡建设") == ["梨园镇委员工作站", "城建界别活动组"]
    assert urban.stations_for({"宋庄镇"}, "环境保护") == ["环资界别活动组"]


def test_urgent_clues_are_public_opinion_information() -> None:
    (draft,) = group_into_clues([order(i, ("城乡建设", "市政设施")) for i in range(20)], ROUTING)
    assert draft.classify(ROUTING, urgent=True, previous=None) == ("public_opinion", "突发性重点问题，及时报送")


def test_citizens_are_counted_by_phone_key() -> None:
    (draft,) = group_into_clues([order(1, ("民政",), caller="same"), order(2, ("民政",), caller="same"), order(3, ("民政",), caller="")], ROUTING)
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
