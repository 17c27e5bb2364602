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


def order(n: int, category: tuple[str, ...], street: str = "梨园镇", caller: str | None = None) -> RoutedOrder:
    return RoutedOrder(n, f"T{n}", category, street, "云景里社区", f"诉求{n}", caller if caller is not None else f"c{n}")


def test_orders_are_grouped_per_committee_and_two_category_levels() -> None:
    orders = [order(i, ("城乡建设", "市政设施", "道路积水")) for i in range(12)]
    orders += [order(100 + i, ("城乡建设", "住房保障", "物业管理"), street="永顺镇") for i in range(4)]
    orders += [order(200, ("教育文体", "教育"))]
    orders += [order(300, ("纪检监察",)), order(301, ())]
    drafts = {(d.committee_id, d.category): d for d in group_into_clues(orders, ROUTING)}
    assert drafts[("urban", ("城乡建设", "市政设施"))].count == 12
    assert drafts[("urban", ("城乡建设", "市政设施"))].clue_type(ROUTING, urgent=False) == "consultation_topic"
    assert drafts[("urban", ("城乡建设", "住房保障"))].clue_type(ROUTING, urgent=False) == "proposal"
    assert drafts[("education", ("教育文体", "教育"))].clue_type(ROUTING, urgent=False) == "public_opinion"
    triage = [d for d in drafts.values() if d.triage]
    assert {d.committee_id for d in triage} == {"office"}
    assert sum(d.count for d in triage) == 2
    assert drafts[("urban", ("城乡建设", "市政设施"))].title() == "城乡建设·市政设施·道路积水：梨园镇12件诉求"


def test_urgent_clues_are_public_opinion_information() -> None:
    (draft,) = group_into_clues([order(i, ("城乡建设", "市政设施")) for i in range(20)], ROUTING)
    assert draft.clue_type(ROUTING, urgent=True) == "public_opinion"


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
        triage=False, work_orders=3, citizens=3, places="梨园镇（3件）", period="2026年第47周", trend="本期新出现",
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
    assert sheet.cell(row=2, column=12).value == "T1、T2、T3"
