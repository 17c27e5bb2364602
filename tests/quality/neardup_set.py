"""A labelled near-duplicate set built from real texts of ../shared/data (deterministic, seeded).

Re-sends: every labelled message (messages-dev.jsonl), and board messages
(board-dev.jsonl) chosen because they share a specific place with others, is
kept as written and re-sent three times with the edits citizens and operators
make when the same matter comes in again: a prefix (再次反映 …), a suffix
(盼复, a masked phone), the subject line typed into the body, a sentence left
out, the text cut short, a sentence repeated, a follow-up sentence added, a few
characters mistyped, punctuation changed. Pairs from one message are
duplicates; pairs from different messages are not.

Negatives that share topic words: the messages are picked so that many pairs
of different messages share the same first-level category and place token
(A7县, 人民医院 …), or, on the board, the same specific place (泉塘街道,
开元路, 黄兴镇 …). Board messages whose 3-gram Jaccard with another chosen one
is 0.2 or more are left out: the board holds real re-posts of one matter and
those cannot be called negatives without reading them (the hand-labelled real
pairs below are for that).

Real re-posts: REAL_PAIRS are pairs of board messages read by hand (2026-12-01),
each labelled "same" (one matter, one place, re-posted: often by the same
citizen with a new subject line, sometimes by neighbours copying one text) or
"different" (a look-alike: same template or place, another matter, another
place, another building), picked across the whole range of text overlap.
"""
from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from gateway.pipeline.neardup import shingles

SEED = 13
PLACE = re.compile(r"[A-Z]\d*[市区县]|[\u4e00-\u9fff]{2,5}?(?:小区|花园|新村|街道|大道|路|镇|乡|村|中学|小学|学校|医院|社区)")
# Place tokens too general to make two board messages "about the same place".
_GENERAL = re.compile(r"^(?:[A-Z]\d*[市区县]|.*(?:我们|这个|这条|整个|周边|导致|现在|严重影响|附近).*|.{0,2}(?:线路|马路|公路|道路|一条路))$")

PREFIXES = ["再次反映：", "第二次反映，", "我之前反映过这个问题，至今没有解决。", "您好，", "市民来电反映：", "重复件：", "还是上次的问题，"]
SUFFIXES = ["希望尽快处理！", "请相关部门重视。", "联系电话138****5678。", "谢谢！", "盼复！", "问题至今没有解决，请给个答复。", "望领导百忙之中给予解决。"]
FOLLOW_UPS = ["上次回复说会处理，但到现在还是老样子。", "已经打过好几次电话了。", "这个问题已经拖了很久。", "周边居民意见很大。"]
_SENTENCE = re.compile(r"(?<=[。！？!?；;])")


@dataclass
class NearDupSet:
    texts: list[str]
    group: list[int]  # texts with the same group are one matter
    source: list[str]  # "messages" or "board", per group
    topic_negatives: set[tuple[int, int]] = field(default_factory=set)  # different matters sharing category+place or a specific place

    def true_pairs(self) -> set[tuple[int, int]]:
        by_group: dict[int, list[int]] = defaultdict(list)
        for i, g in enumerate(self.group):
            by_group[g].append(i)
        return {pair for members in by_group.values() for pair in combinations(members, 2)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _typos(text: str, rng: random.Random, n: int) -> str:
    chars = list(text)
    han = [i for i, c in enumerate(chars) if "\u4e00" <= c <= "\u9fff"]
    pool = [chars[i] for i in han] or ["的"]
    for i in rng.sample(han, min(n, len(han))):
        chars[i] = rng.choice(pool)
    return "".join(chars)


def resend(title: str, text: str, rng: random.Random) -> str:
    """One re-send of a message: one to three of the edits a second submission carries."""
    sentences = [s for s in _SENTENCE.split(text.strip()) if s]
    edits = rng.sample(["prefix", "suffix", "title", "drop", "cut", "repeat", "follow_up", "typos", "punctuation"], rng.choice((1, 2, 2, 3)))
    if "drop" in edits and len(sentences) > 2:
        sentences.pop(rng.randrange(1, len(sentences)))
    if "cut" in edits and len(sentences) > 3:
        sentences = sentences[:max(2, round(len(sentences) * 0.7))]
    if "repeat" in edits and sentences:
        sentences.append(sentences[-1])
    if "follow_up" in edits:
        sentences.insert(rng.randint(0, len(sentences)), rng.choice(FOLLOW_UPS))
    body = "".join(sentences)
    if "typos" in edits:
        body = _typos(body, rng, rng.randint(1, 3))
    if "punctuation" in edits:
        body = rng.choice([lambda s: s.replace("，", ",").replace("。", ".").replace("！", "!"), lambda s: re.sub(r"[，。！？、；：]", " ", s), lambda s: s.replace("。", "！")])(body)
    if "title" in edits:
        body = f"{title}。{body}"
    if "prefix" in edits:
        body = rng.choice(PREFIXES) + body
    if "suffix" in edits:
        body = body + rng.choice(SUFFIXES)
    return body


def _places(row: dict[str, Any]) -> set[str]:
    return set(PLACE.findall(f"{row['title']} {row['text']}"))


def _board_clusters(board: list[dict[str, Any]], rng: random.Random, per_place: int = 4, places: int = 40) -> list[dict[str, Any]]:
    """Board messages by specific place (several per place), none too close to another chosen one."""
    by_place: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(board):
        if len(row["text"]) >= 40:
            for token in _places(row):
                if not _GENERAL.match(token):
                    by_place[token].append(i)
    ranked = sorted((p for p, ids in by_place.items() if len(ids) >= per_place), key=lambda p: (-len(by_place[p]), p))
    chosen: list[int] = []
    grams: dict[int, set[str]] = {}
    for place in ranked[:places]:
        candidates = [i for i in by_place[place] if i not in grams]
        rng.shuffle(candidates)
        taken = 0
        for i in candidates:
            g = shingles(board[i]["text"])
            if len(g) < 20 or any(jaccard(g, other) >= 0.2 for other in grams.values()):
                continue
            grams[i] = g
            chosen.append(i)
            taken += 1
            if taken == per_place:
                break
    return [board[i] for i in chosen]


def build(messages: list[dict[str, Any]], board: list[dict[str, Any]], seed: int = SEED, variants: int = 3) -> NearDupSet:
    rng = random.Random(seed)
    originals = [(row, "messages") for row in messages if len(shingles(row["text"])) >= 20]
    originals += [(row, "board") for row in _board_clusters(board, rng)]
    texts: list[str] = []
    group: list[int] = []
    source: list[str] = []
    keys: list[set[tuple[str, str]]] = []  # per group: (category or "", place) it shares topic words by
    for g, (row, where) in enumerate(originals):
        source.append(where)
        places = _places(row)
        if where == "messages":
            keys.append({(row["category_l1"], p) for p in places})
        else:
            keys.append({("", p) for p in places if not _GENERAL.match(p)})
        texts.append(row["text"])
        group.append(g)
        for _ in range(variants):
            texts.append(resend(row["title"], row["text"], rng))
            group.append(g)
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for g, ks in enumerate(keys):
        for k in ks:
            by_key[k].append(g)
    sharing = {(a, b) for gs in by_key.values() for a, b in combinations(sorted(set(gs)), 2)}
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(group):
        members[g].append(i)
    topic = {(min(i, j), max(i, j)) for a, b in sharing for i in members[a] for j in members[b]}
    return NearDupSet(texts, group, source, topic)


# Board message pairs read by hand on 2026-12-01: (message_id, message_id, "same" | "different", why).
REAL_PAIRS: list[tuple[str, str, str, str]] = [
    # one matter re-posted (picked evenly across 3-gram Jaccard 0.2-1.0)
    ("197669", "214709", "same", "茶场村五组何时拆迁"),
    ("273805", "283371", "same", "白鹤咀停车场充电站项目, 商学院宿舍与A3区一小旁"),
    ("201766", "226576", "same", "新A1区之都佳苑违建"),
    ("201766", "204464", "same", "新A1区之都佳苑违建"),
    ("198446", "252131", "same", "云开一品产权缩水"),
    ("197945", "231407", "same", "星沙派小区1栋与竣工图不符 (再次反映)"),
    ("192043", "289834", "same", "文体中心乒羽中心何时开放"),
    ("192633", "269182", "same", "谷苑路渣土车"),
    ("270989", "276854", "same", "辉煌国际城二期楼下饭店"),
    ("193392", "285506", "same", "捷聚飞迈网络公司诈骗"),
    ("214289", "223221", "same", "农商行乔口支行乱扣月供"),
    ("192427", "203345", "same", "新卯村三合组移动信号"),
    ("225479", "283901", "same", "铁广职工住宅项目"),
    ("198493", "272567", "same", "领东汇小区3栋麻将馆"),
    ("239257", "284540", "same", "湖开小区供水"),
    ("247988", "264146", "same", "堂源华唯崇医保款"),
    ("195652", "233185", "same", "珠江东方明珠16栋窗户玻璃"),
    ("213219", "271539", "same", "陡岭支路40号违章建筑"),
    ("198493", "211453", "same", "领东汇小区3栋麻将馆"),
    ("230531", "243234", "same", "高一选科没有政史地 (一所学校)"),
    ("237315", "269820", "same", "物流学院以东空地的公园"),
    ("246224", "286629", "same", "辉煌国际城二期楼下饭店"),
    ("258223", "274436", "same", "仁和会计培训退费"),
    ("258006", "274436", "same", "仁和会计培训退费"),
    ("280718", "280776", "same", "金科时代中心停车难"),
    ("204005", "248617", "same", "C3县农民在A市买房限购"),
    ("213173", "227840", "same", "雅礼中学与大华宾馆之间工地夜间施工"),
    ("226697", "244205", "same", "江滨家园三期产权证"),
    ("194216", "224264", "same", "悦湖山小区安全隐患"),
    ("246915", "255615", "same", "榔梨镇大园社区拆迁补偿"),
    ("198766", "238649", "same", "津楚投资法人失联"),
    ("219925", "289103", "same", "双湾国际2栋饺子故事油烟"),
    ("214307", "279702", "same", "辉煌国际城二期虚假场地证明"),
    ("191111", "208775", "same", "公交线路建议"),
    ("239190", "282611", "same", "公交线路建议"),
    ("239670", "256358", "same", "东六线以西闲置厂房规划"),
    ("206318", "289772", "same", "惟盛园安置小区收费"),
    ("208775", "239190", "same", "公交线路建议"),
    ("198111", "288728", "same", "金晖优步花园精装与配套"),
    ("214307", "227607", "same", "辉煌国际城二期虚假场地证明"),
    ("191111", "239190", "same", "公交线路建议"),
    ("213557", "215920", "same", "鑫天鑫城二次供水"),
    ("230874", "281884", "same", "带着情怀提升规划建设水平"),
    ("215123", "266531", "same", "深业睿城f区地下车位"),
    ("201867", "230147", "same", "梅溪湖金茂悦周边乱停车"),
    ("214006", "234275", "same", "电建星湖湾捂盘"),
    ("228102", "269558", "same", "A1区苑物业停车费"),
    ("198418", "236396", "same", "居住证未满一年小孩上学"),
    ("201824", "281684", "same", "139区间车停运"),
    ("230720", "245200", "same", "曲塘路渣土车"),
    ("224586", "242542", "same", "曙光南路周边环境"),
    ("236295", "246212", "same", "广圣大酒店瑞生堂足道"),
    ("273741", "278545", "same", "泉星公园项目规划优化"),
    ("273741", "278281", "same", "泉星公园项目规划优化"),
    ("234952", "274285", "same", "凉塘路旧城改造"),
    ("210107", "252413", "same", "诺亚山林门口眼科医院"),
    ("211006", "216587", "same", "山水湾小区粪池车"),
    ("241245", "250797", "same", "咸嘉新村西子园托管中心"),
    ("278545", "289574", "same", "泉星公园项目规划优化"),
    ("212691", "278497", "same", "碧桂园威尼斯城违建"),
    ("273741", "289574", "same", "泉星公园项目规划优化"),
    ("236137", "241653", "same", "楚雅附三医院归谁监管"),
    ("211394", "253547", "same", "裕园小区绿化带成菜市场"),
    ("281101", "289808", "same", "向韶村马路市场"),
    ("265159", "283025", "same", "盛世耀凯杜鹃路渣土车"),
    ("226871", "258186", "same", "诺亚山林门口眼科医院"),
    ("231226", "251342", "same", "中航城丽园9栋违建"),
    ("198911", "223409", "same", "山千制药拖欠工资"),
    ("226871", "252413", "same", "诺亚山林门口眼科医院"),
    ("207597", "284050", "same", "805路改道木莲中路"),
    ("219699", "250764", "same", "广胜村村委集体资产"),
    ("190485", "226697", "same", "江滨家园三期产权证"),
    ("203611", "205456", "same", "金茂府5-4304一房二卖"),
    ("210000", "281654", "same", "时代倾城二期门面违法销售"),
    ("198247", "205046", "same", "公交10号线清扫"),
    ("257839", "280883", "same", "御景龙城房产证"),
    ("195013", "260546", "same", "寻找退伍战友"),
    ("236867", "284066", "same", "青青家园小吃店住改商"),
    ("242917", "253636", "same", "晟福兴汝金城二期虚假宣传"),
    ("211823", "282171", "same", "法拍房退个税"),
    ("203611", "270610", "same", "金茂府5-4304一房二卖"),
    ("212832", "226334", "same", "恒基凯旋门配套幼儿园"),
    ("196604", "217739", "same", "星沙中茂城商铺退款"),
    ("211974", "281705", "same", "金星路人行道"),
    ("228541", "271948", "same", "地绿城际空间站"),
    # look-alikes: same template or place, another matter or place
    ("274526", "275565", "different", "时代倾城沿街: 医疗诊所监管 / 食品安全监管, one writer's template"),
    ("261099", "265489", "different", "长株潭地铁: B市到A市 / C市到A市"),
    ("196659", "205329", "different", "KTV扰民: 柏家塘小区17栋 / 燕联小区3栋, same complaint form"),
    ("191154", "205329", "different", "KTV扰民: 柏家塘小区 / 燕联小区"),
    ("191993", "192521", "different", "智能红绿灯和过街天桥: A7县城区 / A市城区"),
    ("237282", "249262", "different", "普惠性幼儿园: 三一街区三之三 / 江山帝景大风车"),
    ("189245", "204594", "different", "群租房: 北辰三角洲E4区1栋 / 山水嘉园1栋三单元"),
    ("192758", "204594", "different", "群租房: 望兴家园地下室 / 山水嘉园1栋三单元"),
    ("190822", "231082", "different", "汉王陵遗址公园: 周边环境 / 银杉北路道路与治安"),
    ("210869", "279063", "different", "支付宝乘车码: 地铁和磁浮 / 公交车"),
]


def real_pairs(board: list[dict[str, Any]]) -> tuple[list[str], list[tuple[int, int, str, str]]]:
    """The texts of REAL_PAIRS' messages (each once) and the pairs as positions in that list."""
    by_id = {row["message_id"]: row for row in board}
    ids = sorted({m for a, b, _, _ in REAL_PAIRS for m in (a, b)})
    absent = [m for m in ids if m not in by_id]
    if absent:
        raise LookupError(f"board-dev.jsonl lacks the hand-labelled messages {absent}: not the data set these pairs were read from")
    position = {m: i for i, m in enumerate(ids)}
    return [by_id[m]["text"] for m in ids], [(position[a], position[b], label, why) for a, b, label, why in REAL_PAIRS]
