"""A realistic week of 12345 work orders, made up here (a user's machine has no real data).

Varied complaint texts across the taxonomy's first-level categories, places and
channels; callers with names and phone numbers inside the text (to be masked);
clusters of near-duplicates (a problem many citizens report); and matters that
screening must exclude (litigation, real-name reports, assigned petitions,
discipline inspection).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

DISTRICT = "通州区"
STREETS = {
    "梨园镇": ["云景里社区", "半壁店社区", "大稿村", "九棵树社区"],
    "永顺镇": ["永顺南里社区", "西马庄社区", "龙旺庄村", "富河园社区"],
    "宋庄镇": ["小堡村", "宋庄村", "徐辛庄村"],
    "台湖镇": ["次渠家园社区", "台湖村", "京洲园社区"],
    "马驹桥镇": ["金桥花园社区", "马驹桥村", "兴贸一街社区"],
    "中仓街道": ["中仓社区", "滨河社区", "西营社区"],
    "新华街道": ["新华南社区", "司空分署社区", "如意社区"],
    "北苑街道": ["北苑南路社区", "新建村社区", "果园社区"],
    "玉桥街道": ["玉桥北里社区", "柳岸方园社区", "乔庄社区"],
    "漷县镇": ["漷县村", "军屯村", "马头村"],
}
CHANNELS = ["phone", "phone", "phone", "phone", "web", "app", "wechat"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红"

# (category path, handling unit, complaint templates)
TOPICS: list[tuple[list[str], str, list[str]]] = [
    (["城乡建设", "城市建设和市政管理", "基础设施"], "区城市管理委", [
        "{community}{building}附近道路坑洼不平，雨后大面积积水，老人孩子出行很不方便，希望尽快修补。",
        "{community}门口的人行道砖松动翘起，已经有人绊倒，请相关部门修复。",
        "反映{community}周边路灯不亮已经一周多了，晚上出行很不安全。",
    ]),
    (["城乡建设", "城市建设和市政管理", "冬季采暖"], "区供热办", [
        "{community}{building}家里暖气不热，室温只有十四五度，家里有老人，请供暖公司尽快处理。",
        "今年供暖开始后{community}{building}暖气一直不热，找物业多次没有结果。",
    ]),
    (["城乡建设", "住房保障", "物业管理"], "区住房城乡建设委", [
        "{community}物业不作为，楼道垃圾多日无人清理，电梯经常故障，业主意见很大。",
        "{community}物业擅自上调停车费，没有经过业主大会，希望有关部门核查。",
    ]),
    (["城乡建设", "城市建设和市政管理", "小区管理"], "属地街乡", [
        "{community}{building}有住户私搭乱建，占用公共绿地，请城管执法处理。",
    ]),
    (["环境保护", "噪声污染", "施工噪声"], "区生态环境局", [
        "{community}旁边工地夜间施工到凌晨，噪音很大，严重影响休息，希望管一管。",
        "{community}附近工地晚上十一点以后还在打桩，孩子睡不着觉。",
    ]),
    (["环境保护", "大气污染", "油烟污染"], "区生态环境局", [
        "{community}底商餐馆油烟直排，楼上住户家里都是油烟味，窗户都不敢开。",
    ]),
    (["交通运输", "道路交通", "停车管理"], "区交通委", [
        "{community}周边乱停车严重，消防通道被堵，早晚高峰出不去。",
        "{community}附近公交站撤了以后出行很不方便，希望恢复或者调整线路。",
    ]),
    (["教育文体", "教育", "学前教育"], "区教委", [
        "{community}周边没有公办幼儿园，孩子入园难，希望增加学位。",
        "孩子在{street}某小学上学，学校门口上下学时段拥堵严重，存在安全隐患。",
    ]),
    (["卫生计生", "医疗服务", "社区卫生"], "区卫生健康委", [
        "{community}社区卫生服务站看病排队时间太长，医生只有两位，希望增加人手。",
        "{street}社区卫生服务中心开药品种少，慢性病老人要跑很远去大医院。",
    ]),
    (["劳动和社会保障", "劳动关系", "拖欠工资"], "区人力社保局", [
        "我在{street}一家装修公司打工，老板拖欠三个月工资共一万二千元，多次讨要无果。",
    ]),
    (["民政", "养老服务", "社区养老"], "区民政局", [
        "{community}老人多，没有老年餐桌，希望社区开办养老驿站解决吃饭问题。",
    ]),
    (["商贸旅游", "市场监管", "预付卡"], "区市场监管局", [
        "在{street}一家健身房办了年卡，现在突然关门跑路了，要求退费。",
    ]),
    (["农村农业", "农村管理", "农村环境"], "属地镇政府", [
        "{community}附近的排水沟长期不清理，夏天臭气熏天，希望治理。",
    ]),
    (["经济管理", "企业服务", "营商环境"], "区发展改革委", [
        "我们是{street}的小微企业，办理开办手续要跑好几个部门，希望简化流程。",
    ]),
    (["国土资源", "土地管理", "违法占地"], "区规划和自然资源委", [
        "{community}附近有人占用耕地建厂房，请核查。",
    ]),
]

# Matters many citizens report in one week, each at one place, each citizen in their own words: these make the
# clues (a topic: a matter at a place). (topic index, street, community, what citizens write about it)
HOT_TOPICS: list[tuple[int, str, str, list[str]]] = [
    (0, "梨园镇", "云景里社区", [
        "云景里小区门口道路积水严重，一下雨就没过脚踝，已经好几年了，希望彻底解决排水问题。",
        "云景里小区东门外一下雨就成了河，雨水排不出去，老人孩子出门只能蹚水。",
        "反映云景里小区门前路面积水，下水道堵了，车开过去水溅一身。",
        "云景里这边排水管网老化，每次下大雨小区门口积水能到膝盖，请市政来看看。",
        "小区门口积水问题反映多次了，云景里社区说要上报，到现在也没人来疏通雨水井。",
    ]),
    (1, "永顺镇", "永顺南里社区", [
        "永顺南里小区供暖温度不达标，家里只有十五度左右，好多邻居都反映了。",
        "永顺南里8号楼暖气不热，屋里穿着羽绒服还冷，供热公司电话一直打不通。",
        "永顺南里社区今年供暖一直不热，测了室温才16度，孩子都感冒了。",
        "我们永顺南里小区暖气片冰凉，交了取暖费却享受不到供暖，请督促供热单位。",
        "永顺南里小区供热不足，楼上楼下都说暖气温度低，希望尽快排查管道。",
    ]),
    (4, "台湖镇", "京洲园社区", [
        "京洲园社区旁边的工地夜间施工，噪音扰民，已经持续半个月。",
        "京洲园小区北侧工地每天晚上十一点以后还在打桩，根本睡不着觉。",
        "投诉京洲园附近工地凌晨施工，渣土车进出轰隆隆响，请城管查处。",
        "京洲园旁边的建筑工地夜里施工不停，噪声太大，老人心脏受不了。",
        "京洲园社区西边工地违规夜间作业，投诉了几次还是照样干。",
    ]),
    (4, "宋庄镇", "小堡村", [
        "小堡村旁边建了个搅拌站，晚上吵得睡不着，粉尘也大。",
        "投诉宋庄镇小堡村附近违建搅拌站，彻夜施工污染环境。",
        "小堡村东边的混凝土搅拌站每天夜里出车，灰尘落满院子，请查一下有没有手续。",
        "小堡村搅拌站噪音粉尘扰民，村民多次反映没有结果。",
    ]),
]
EXCLUDED = [
    (["政法", "司法", "民事纠纷"], "我和开发商的房屋买卖纠纷已经向法院起诉，想问问进度。", ["litigation"]),
    (["纪检监察", "违纪举报", "干部作风"], "举报{street}某干部收受好处。", ["real_name_report"]),
    (["城乡建设", "住房保障", "拆迁安置"], "拆迁补偿问题之前反映过，信访事项已交办，希望加快办理。", ["petition_assigned"]),
    (["劳动和社会保障", "劳动关系", "劳动争议"], "和公司的劳动争议正在仲裁，申请了仲裁还没有结果。", ["arbitration"]),
]


@dataclass
class DemoWeek:
    weekly: dict[str, Any]
    urgent: dict[str, Any]
    express: dict[str, Any]

    @property
    def work_orders(self) -> int:
        return len(self.weekly["records"]) + len(self.urgent["records"]) + len(self.express["records"])


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def _with_caller(rng: random.Random, text: str, name: str, phone: str) -> str:
    style = rng.random()
    if style < 0.25:
        return f"我叫{name}，{text}联系电话{phone}。"
    if style < 0.4:
        return f"{text}本人{name}，电话{phone[:3]}-{phone[3:7]}-{phone[7:]}，请回电。"
    if style < 0.5:
        return f"{name[0]}先生来电反映：{text}"
    return text


def generate_week(week_start: date, records: int = 600, seed: int = 47) -> DemoWeek:
    """A weekly report of about `records` work orders, and one urgent report."""
    rng = random.Random(seed)
    year, week, _ = week_start.isocalendar()
    prefix = week_start.strftime("%y%m%d")
    orders: list[dict[str, Any]] = []

    def record(category: list[str], street: str, community: str, content: str, unit: str, flags: list[str] | None = None,
               into: list[dict[str, Any]] | None = None) -> None:
        target = orders if into is None else into
        day = week_start + timedelta(days=rng.randrange(7))
        at = datetime.combine(day, time(rng.randrange(7, 22), rng.randrange(60)))
        name, phone = _name(rng), _phone(rng)
        channel = rng.choice(CHANNELS)
        # Web and app messages often come with only a first-level category, or as one string.
        cat: Any = category if channel == "phone" else ("/".join(category) if rng.random() < 0.5 else category[:1])
        target.append({
            "ticket_no": f"{prefix}{len(orders) + 1:07d}",
            "received_at": at.isoformat(timespec="minutes"),
            "channel": channel,
            "category": cat,
            "district": DISTRICT,
            "street": street,
            "community": community,
            "address": f"{community}{rng.randrange(1, 30)}号楼附近",
            "content": _with_caller(rng, content, name, phone),
            "caller": {"name": name, "phone": phone},
            "handling_unit": unit,
            "status": rng.choice(["closed", "closed", "processing", "accepted"]),
            "satisfaction": rng.choice(["satisfied", "satisfied", "basically_satisfied", "unsatisfied", None]),
            **({"flags": flags} if flags else {}),
        })

    hot_share = max(records // 5, len(HOT_TOPICS))
    for i in range(hot_share):
        topic_index, street, community, wordings = HOT_TOPICS[i % len(HOT_TOPICS)]
        category, unit, _ = TOPICS[topic_index]
        # Some citizens call again about the same thing (a near duplicate); most write in their own words.
        variants = ["", "", "", "再次反映：", "邻居们都很着急，", "希望尽快处理，"]
        record(category, street, community, rng.choice(variants) + rng.choice(wordings), unit)
    for _ in range(max(records // 40, len(EXCLUDED))):
        category, text, flags = rng.choice(EXCLUDED)
        street = rng.choice(list(STREETS))
        record(category, street, rng.choice(STREETS[street]), text.format(street=street), "区信访办", flags)
    while len(orders) < records:
        category, unit, templates = rng.choice(TOPICS)
        street = rng.choice(list(STREETS))
        community = rng.choice(STREETS[street])
        text = rng.choice(templates).format(community=community, street=street, building=f"{rng.randrange(1, 30)}号楼")
        record(category, street, community, text, unit)
    rng.shuffle(orders)
    for n, order in enumerate(orders, start=1):
        order["ticket_no"] = f"{prefix}{n:07d}"

    heating: list[dict[str, Any]] = []
    category, unit, templates = TOPICS[1]
    for _ in range(max(records // 20, 5)):
        community = rng.choice(STREETS["永顺镇"])
        record(category, "永顺镇", community, rng.choice(templates).format(community=community, street="永顺镇", building=f"{rng.randrange(1, 30)}号楼"), unit, into=heating)
    for n, order in enumerate(heating, start=1):
        order["ticket_no"] = f"{prefix}8{n:06d}"

    issued = datetime.combine(week_start + timedelta(days=7), time(8, 0)).isoformat() + "+08:00"
    weekly = {
        "report_id": f"TZ-{year}-W{week:02d}",
        "kind": "weekly",
        "period": {"start": week_start.isoformat(), "end": (week_start + timedelta(days=6)).isoformat()},
        "issued_at": issued,
        "title": f"{DISTRICT}接诉即办第{week}周周报",
        "summary": f"本周共受理群众诉求{len(orders)}件，供暖、道路积水、施工噪声等问题反映集中。",
        "records": orders,
    }
    urgent_at = datetime.combine(week_start + timedelta(days=6), time(21, 30))
    name, phone = _name(rng), _phone(rng)
    urgent = {
        "report_id": f"TZ-{year}-U{week:02d}01",
        "kind": "urgent",
        "issued_at": urgent_at.isoformat() + "+08:00",
        "title": "突发性重点问题：暴雨致小区地下车库进水",
        "summary": "今晚强降雨，梨园镇多个小区地下车库进水，群众集中来电。",
        "records": [{
            "ticket_no": f"{prefix}9{i:06d}",
            "received_at": (urgent_at + timedelta(minutes=i * 3)).isoformat(timespec="minutes"),
            "channel": "phone",
            "category": ["城乡建设", "城市建设和市政管理", "基础设施"],
            "district": DISTRICT, "street": "梨园镇", "community": community,
            "address": f"{community}地下车库",
            "content": f"我叫{name}，{community}地下车库进水，很多车被淹，电话{phone}，请赶紧派人抽水。",
            "caller": {"name": name, "phone": phone},
            "handling_unit": "梨园镇政府", "status": "processing",
        } for i, community in enumerate(["云景里社区", "九棵树社区", "半壁店社区"])],
    }
    express = {
        "report_id": f"TZ-{year}-K{week:02d}01",
        "kind": "express",
        "issued_at": datetime.combine(week_start + timedelta(days=5), time(17, 0)).isoformat() + "+08:00",
        "title": "快报：永顺镇多个小区供暖温度不达标",
        "summary": f"本周永顺镇供暖类诉求{len(heating)}件，集中在多个老旧小区。",
        "records": heating,
    }
    return DemoWeek(weekly=weekly, urgent=urgent, express=express)
