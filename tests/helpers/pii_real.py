"""Personal data inserted into REAL sentences of ../shared/data: a labelled set for the masker (deterministic, seeded).

    from tests.helpers import pii_real, realdata
    cases = pii_real.build_cases(realdata.messages(), realdata.board())
    report = pii_real.score(cases)          # the masker as the pipeline applies it
    print(report.table())

Sentences come from the real messages (messages-dev.jsonl, then board-dev.jsonl,
split at 。！？, 14–60 characters). Sentences with anything that may already be
personal data are not used: long digit runs, the source's own masks (0000-…, *),
contact words (电话, 联系人, 身份证 …), officials' titles (书记, 局长 …), and the
real people's names found by reading the sentences rjieba tags as holding a
person's name (REAL_NAMES, read 2026-12-01 for this seed's pool).

Into them go the kinds of personal data citizens write, in the phrasings they use
(names after 市民/居民/业主 … 女士, 反映人：, 本人, 我叫, 联系人, 工作人员, a staff
member by surname and title (工作人员王老师), a name
alone before a verb, a relative's name, a letter's signature, a name known from
the caller field; mobiles in eleven spellings; landlines such as (010)62345678,
010－62345678, 0731-84567890; valid ID numbers; card and account numbers, Luhn
valid and not; e-mail; home addresses with 栋/号楼, 单元, 室), each with its
`secrets` (substrings that must not survive masking) and `keep` (substrings that
must: the real sentence). Negatives are real sentences as written, real
self-descriptions (我是…的业主, 本人系…), and real sentences with look-alikes
inserted: place names that start with a surname (王府井, 张家湾, 李桥镇, 黄兴路,
雨花区 …), 王先生/李老师, ticket numbers, dates, amounts, the place of a problem
(5栋2单元楼道). A negative must come out unchanged.

The set depends only on the data files and SEED: `fingerprint()` of it is held by
tests/quality/test_real_data.py, so a change to this generator is a deliberate one.
"""
from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SEED = 20261201

_SPLIT = re.compile(r"(?<=[。！？])")
# Anything that may already be personal data (or an official's name) in a real sentence.
_UNSAFE = re.compile(
    r"\d{5,}|0000|\*|某|@|http|www|[a-z]|[A-Z]{2,}|我叫|姓名|联系人|电话|手机|号码|身份证|单元|号楼|室|先生|女士"
    r"|书记|市长|县长|局长|主任|老师|师傅|校长|经理|主编|科长|处长|院长|董事|法人|代表人"
)
_SELF = re.compile(r"我是|本人")
# Real people named in the drawn sentences (read by hand among those rjieba tags nr, 2026-12-01).
REAL_NAMES = ("龙絮新", "刘熊", "周斌宏", "张昊", "张斌建", "彭美莹", "姜坚群", "肖威", "徐萍", "徐运宽", "胡杨", "刘峰俊",
              "苏晖", "陈福如", "李之勇", "徐莎", "黄本人", "夏庭", "王怀启", "王启怀", "杜敏", "何绢", "吴建", "杨辉玉", "陈建明",
              "向仍荣", "曹忠文")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范廖贾夏韦付方邹孟熊秦邱尹薛段雷侯龙陶黎贺顾毛郝龚邵万覃武戴孔向汤易"
COMPOUND = ("欧阳", "司马", "上官", "诸葛")
GIVEN = "桂芳建国振秀英志强丽华伟敏静军洋勇艳杰娟涛明超霞平刚玉兰红丹萍鹏飞辉波宁琳佳欣悦浩宇涵轩诺桐春梅德福文斌海燕凤琴永坤慧淑珍荣彬晓雪云龙"
PLACES = ("王府井", "张家湾", "李桥镇", "黄兴路", "雨花区", "刘家窑", "马家堡", "高碑店", "宋家庄", "何家村", "杨家坪", "胡家园",
          "赵公口", "孙河乡", "陈家祠", "周庄", "罗湖", "郭公庄", "谢家湾", "唐家岭", "韩村河", "冯家峪", "邓家湾", "曹家巷",
          "彭家桥", "曾家冲", "侯家塘", "袁家岭", "潘家园", "蔡家坡", "杜家坎", "叶家庄", "苏家屯", "魏公村", "丁家桥", "沈家门",
          "马王堆", "易家湾", "左家塘", "万家丽路", "杨家山", "黎托街道", "金盆岭", "石门坎", "汤家湖", "贺龙体育馆", "毛家湾", "龙王港")
ESTATES = ("金色山庄", "鑫天鑫城", "领东汇小区", "山水嘉园", "裕园小区", "湖开小区", "德雅苑", "富康小区", "江滨家园", "星湖湾",
           "融城园", "德润园小区", "九峰小区", "楚府东苑", "中航城丽园", "诺亚山林")
ROADS = ("黄谷路", "楚府中路", "金线街", "远大一路", "曲塘路", "桐梓坡西路", "木莲中路", "香樟路")
CN_NUM = "一二三四五六七八九"


@dataclass(frozen=True)
class Secret:
    value: str  # a substring of the case's text that must not survive masking
    kind: str  # name, mobile, landline, id_card, bank_card, account_number, email, address


@dataclass(frozen=True)
class Case:
    text: str
    kind: str  # the phrasing (name_citizen, mobile, neg_place …)
    secrets: tuple[Secret, ...] = ()
    keep: tuple[str, ...] = ()  # substrings that must survive
    names: tuple[str, ...] = ()  # the caller field, as the pipeline passes it
    negative: bool = False


def _clean_sentence(s: str) -> str:
    return " ".join(s.split())


def sentences(messages: list[dict[str, Any]], board: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Usable real sentences: (all, self-descriptions among them), in data order, without repeats."""
    found: list[str] = []
    seen: set[str] = set()
    for rows in (messages, board):
        for row in rows:
            for s in _SPLIT.split(row["text"]):
                s = _clean_sentence(s)
                if 14 <= len(s) <= 60 and s[-1] in "。！？" and not _UNSAFE.search(s) and s not in seen:
                    seen.add(s)
                    found.append(s)
    return found, [s for s in found if _SELF.search(s)]


def _luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _id_check(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def _digits_span(written: str, head: int, tail: int) -> str:
    """The part of `written` from its (head+1)-th digit to the one `tail` digits before the end (separators kept)."""
    positions = [i for i, ch in enumerate(written) if ch.isdigit()]
    return written[positions[head]:positions[len(positions) - tail - 1] + 1]


class _Gen:
    def __init__(self, rng: random.Random, avoid: str) -> None:
        self.rng = rng
        self.avoid = avoid
        self.used: set[str] = set()

    def name(self, length: int | None = None) -> str:
        while True:
            if self.rng.random() < 0.04:
                name = self.rng.choice(COMPOUND) + self.rng.choice(GIVEN)
            else:
                n = length or self.rng.choice((2, 3, 3, 3))
                name = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(n - 1))
            # A name that is also a word of the real sentences (高明, 林立 …) would make the label ambiguous.
            if name not in self.used and name not in self.avoid:
                self.used.add(name)
                return name

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def mobile(self) -> str:
        return "1" + self.rng.choice("3456789") + self.rng.choice("0123456789") + self.digits(8)

    def id_card(self, x: bool = False) -> str:
        while True:
            area = self.rng.choice(["110101", "430102", "430104", "430121", "320102", "440305", "510104", "610113", "431202"])
            body = f"{area}{self.rng.randint(1945, 2008)}{self.rng.randint(1, 12):02d}{self.rng.randint(1, 28):02d}{self.digits(3)}"
            check = _id_check(body)
            if (check == "X") == x:
                return body + check

    def card(self, length: int, luhn: bool) -> str:
        prefix = self.rng.choice(["622202", "621700", "622848", "436742", "625965", "621226", "622700", "603367"])
        body = prefix + self.digits(length - len(prefix) - 1)
        right = _luhn_check_digit(body)
        return body + (right if luhn else str((int(right) + self.rng.randint(1, 9)) % 10))


# Phrasings. {s} is the real sentence, {n} the name.
NAME_PHRASINGS: dict[str, list[str]] = {
    "name_citizen": ["市民{n}{t}称，{s}", "居民{n}{t}反映：{s}", "业主{n}{t}来电称{s}", "{s}来电人{n}{t}希望尽快处理。", "村民{n}{t}反映，{s}"],
    "name_reporter": ["反映人：{n}，电话{p}。{s}", "反映人{n}，联系方式{p}，{s}", "{s}反映人：{n}（{p}）", "投诉人：{n}，{s}"],
    "name_self": ["本人{n}，{s}", "我叫{n}，{s}", "我是{n}，{s}", "本人叫{n}，{s}", "我是{place}的居民{n}，{s}", "本人{n}，男，现年{age}岁，{s}"],
    "name_contact": ["{s}联系人{n}", "{s}联系人：{n}，{p}", "联系人{n}，{s}", "{s}联系人：{n}"],
    "name_staff": ["工作人员{n}电话联系我说，{s}", "{s}社区工作人员{n}上门看过。", "物业的{n}答应处理，但{s}", "{s}街道的{n}说会向领导汇报。", "承办人{n}回复：{s}"],
    "name_bare": ["{n}反映{s}", "{n}说{s}", "{n}多次找物业，{s}", "{s}{n}至今没有答复。", "{n}今年{age}岁，{s}"],
    "name_relative": ["我父亲{n}今年{age}岁，{s}", "我儿子{n}在附近小学读书，{s}", "我爱人{n}{s}", "{s}我母亲{n}身体不好。"],
    "name_signature": ["{s}此致敬礼！{n}", "{s}——{n}", "{s}反映人：{n} {date}", "{s}望回复。{n}敬上"],
    "caller_field": ["{s}{n}希望尽快解决。", "{n}来电：{s}", "{s}（{n}）", "{n}称{s}", "{s}请回复{n}。"],
}


def build_cases(messages: list[dict[str, Any]], board: list[dict[str, Any]], seed: int = SEED) -> list[Case]:
    everything, selves = sentences(messages, board)
    rng = random.Random(seed)
    general = [s for s in rng.sample(everything, 700) if not any(name in s for name in REAL_NAMES)]
    self_descriptions = [s for s in rng.sample(selves, 60) if not any(name in s for name in REAL_NAMES)]
    gen = _Gen(rng, "\n".join(everything))
    cases: list[Case] = []
    base = iter(s for s in general if not _SELF.search(s))

    def sentence() -> str:
        return next(base)

    def date() -> str:
        return f"{rng.randint(2018, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"

    for kind, templates in NAME_PHRASINGS.items():
        for i in range(20):
            s, n = sentence(), gen.name()
            phone = gen.mobile()
            template = templates[i % len(templates)]
            text = template.format(s=s, n=n, t=rng.choice(("女士", "先生")), p=phone, place=rng.choice(ESTATES), age=rng.randint(35, 86), date=date())
            secrets = [Secret(n, "name")] + ([Secret(phone[3:], "mobile")] if "{p}" in template else [])
            cases.append(Case(text, kind, tuple(secrets), (s,), (n,) if kind == "caller_field" else ()))

    mobile_spellings: list[Callable[[str], str]] = [
        lambda m: m, lambda m: f"{m[:3]}-{m[3:7]}-{m[7:]}", lambda m: f"{m[:3]} {m[3:7]} {m[7:]}", lambda m: f"+86{m}",
        lambda m: f"+86 {m}", lambda m: f"(+86){m}", lambda m: f"86-{m}", lambda m: f"{m[:3]}－{m[3:7]}－{m[7:]}",
        lambda m: m.translate(str.maketrans("0123456789", "０１２３４５６７８９")), lambda m: f"{m[:3]}.{m[3:7]}.{m[7:]}",
        lambda m: f"{m[:3]}-{m[3:]}",
    ]
    mobile_phrasings = ["{s}联系电话{x}。", "我的手机{x}，{s}", "{s}请回电{x}", "电话：{x}，{s}", "{s}手机号码是{x}，微信同号。"]
    for i in range(44):
        s, m = sentence(), gen.mobile()
        written = mobile_spellings[i % len(mobile_spellings)](m)
        cases.append(Case(mobile_phrasings[i % len(mobile_phrasings)].format(s=s, x=written), "mobile",
                          (Secret(_digits_span(written, len(re.sub(r"\D", "", written)) - 8, 0), "mobile"),), (s,)))

    landline_spellings: list[Callable[[str, str], str]] = [
        lambda a, n: f"({a}){n}", lambda a, n: f"（{a}）{n}", lambda a, n: f"{a}－{n}", lambda a, n: f"{a}-{n}",
        lambda a, n: f"{a} {n}", lambda a, n: f"{a}{n}", lambda a, n: f"{a}—{n}", lambda a, n: f"{a}-{n[:4]}-{n[4:]}",
        lambda a, n: f"区号{a}，号码{n}", lambda a, n: n,
    ]
    landline_phrasings = ["{s}座机{x}。", "家里电话{x}，{s}", "{s}固话：{x}", "{s}可打{x}找我。"]
    for i in range(30):
        s = sentence()
        area = rng.choice(["010", "021", "0731", "0755", "0571", "0730"])
        number = rng.choice("2345678") + gen.digits(7 if area in ("010", "021", "0731", "0755", "0571") else 6)
        written = landline_spellings[i % len(landline_spellings)](area, number)
        local = _digits_span(written, len(re.sub(r"\D", "", written)) - len(number), 0)
        cases.append(Case(landline_phrasings[i % len(landline_phrasings)].format(s=s, x=written), "landline",
                          (Secret(local, "landline"),), (s,)))

    id_phrasings = ["身份证号{x}，{s}", "{s}本人身份证号码：{x}", "{s}证件号{x}。", "我的身份证是{x}，{s}"]
    for i in range(28):
        s = sentence()
        number = gen.id_card(x=i % 5 == 4)
        if i % 5 == 4 and i % 2:
            number = number[:-1] + "x"
        written = f"{number[:6]} {number[6:14]} {number[14:]}" if i % 7 == 3 else number
        cases.append(Case(id_phrasings[i % len(id_phrasings)].format(s=s, x=written), "id_card",
                          (Secret(number[6:14], "id_card"),), (s,)))

    card_phrasings = ["工资卡号{x}，{s}", "{s}退款请打到银行卡{x}", "{s}我的账号是{x}。", "开户行建设银行，账号{x}，{s}", "{s}社保卡卡号{x}。"]
    for i in range(32):
        s = sentence()
        luhn = i % 2 == 0
        number = gen.card(rng.choice((16, 17, 18, 19)), luhn)
        written = " ".join(number[j:j + 4] for j in range(0, len(number), 4)) if i % 4 in (1, 2) else number
        cases.append(Case(card_phrasings[i % len(card_phrasings)].format(s=s, x=written), "bank_card",
                          (Secret(_digits_span(written, 6, 4), "bank_card" if luhn else "account_number"),), (s,)))

    email_phrasings = ["{s}材料已发至{x}。", "邮箱：{x}，{s}", "{s}请回复到我的邮箱{x}"]
    for i in range(15):
        s = sentence()
        if i % 3 == 0:
            user = str(rng.randint(10**7, 10**10))
            domain = "qq.com"
        else:
            user = rng.choice(["zhang", "liu", "wang", "chen", "li", "huang", "zhou"]) + rng.choice(["_", ".", ""]) + rng.choice(["jianguo", "guifang", "min", "wei", "xiaoli"]) + str(rng.randint(1, 99))
            domain = rng.choice(["163.com", "126.com", "sina.com", "foxmail.com", "hotmail.com"])
        cases.append(Case(email_phrasings[i % len(email_phrasings)].format(s=s, x=f"{user}@{domain}"), "email",
                          (Secret(user, "email"),), (s,)))

    for i in range(26):
        s = sentence()
        estate, b, u, r = rng.choice(ESTATES), rng.randint(1, 30), rng.randint(1, 6), rng.randint(1, 33) * 100 + rng.randint(1, 6)
        unit = CN_NUM[u - 1] if i % 4 == 2 else str(u)
        templates = [
            (f"家住{estate}{b}栋{unit}单元{r}室，{s}", f"{unit}单元{r}"),
            (f"我家在{estate}{b}号楼{unit}单元{r}，{s}", f"{unit}单元{r}"),
            (f"本人住址：{rng.choice(ROADS)}{rng.randint(1, 400)}号{estate}{b}栋{unit}单元{r}室。{s}", f"{unit}单元{r}"),
            (f"{s}我住在{estate}{b}号楼{unit}单元{r}号。", f"{unit}单元{r}"),
            (f"现住{estate}{b}栋{unit}单元{r}房，{s}", f"{unit}单元{r}"),
            (f"{s}家庭住址：{rng.choice(ROADS)}{rng.randint(1, 400)}号{estate}{b}号楼{unit}单元{r}室", f"{unit}单元{r}"),
        ]
        text, secret = templates[i % len(templates)]
        cases.append(Case(text, "address", (Secret(secret, "address"),), (s,)))

    # Negatives: nothing in them may change.
    for _ in range(40):
        s = sentence()
        cases.append(Case(s, "neg_sentence", keep=(s,), negative=True))
    for s in self_descriptions[:40]:
        cases.append(Case(s, "neg_self_description", keep=(s,), negative=True))
    place_phrasings = ["{p}附近{s}", "我是{p}的居民，{s}", "{s}地点在{p}。", "家住{p}，{s}", "{p}村民反映{s}", "{s}从{p}到{q}要走很久。",
                       "{p}一带{s}", "本人在{p}上班，{s}", "位于{p}的{s}", "{p}说{s}"]
    for i in range(48):
        s = sentence()
        p, q = PLACES[i % len(PLACES)], PLACES[(i * 7 + 3) % len(PLACES)]
        text = place_phrasings[i % len(place_phrasings)].format(p=p, q=q, s=s)
        cases.append(Case(text, "neg_place", keep=(p, s), negative=True))
    title_phrasings = ["我给{x}打过电话，{s}", "{s}物业的{x}说会处理。", "{x}反映{s}", "{s}社区{x}来看过。", "我是{x}，{s}"]
    for i in range(20):
        s = sentence()
        x = rng.choice(SURNAMES) + rng.choice(("先生", "女士", "老师", "师傅", "阿姨", "经理", "主任"))
        cases.append(Case(title_phrasings[i % len(title_phrasings)].format(x=x, s=s), "neg_title", keep=(x, s), negative=True))
    ticket_makers: list[Callable[[], str]] = [
        lambda: f"{rng.randint(240101, 261231)}{gen.digits(7)}", lambda: f"GD{rng.randint(2024, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{gen.digits(5)}",
        lambda: f"{rng.randint(2024, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{gen.digits(8)}", lambda: f"SF{gen.digits(13)}",
        lambda: f"（2018）楚0103民初{rng.randint(100, 9999)}号", lambda: f"{rng.randint(2024, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{gen.digits(10)}",
    ]
    ticket_phrasings = ["工单编号{x}，{s}", "{s}受理号：{x}", "{s}订单号{x}。", "案件号{x}，{s}"]
    for i in range(24):
        s, x = sentence(), ticket_makers[i % len(ticket_makers)]()
        cases.append(Case(ticket_phrasings[i % len(ticket_phrasings)].format(x=x, s=s), "neg_ticket", keep=(x, s), negative=True))
    date_makers: list[Callable[[], str]] = [
        date, lambda: f"{rng.randint(2018, 2026)}/{rng.randint(1, 12)}/{rng.randint(1, 28)} {rng.randint(0, 23)}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        lambda: f"{rng.randint(2018, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(8, 20):02d}:30",
        lambda: f"{rng.randint(2018, 2026)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}", lambda: f"{rng.randint(2018, 2026)}.{rng.randint(1, 12):02d}.{rng.randint(1, 28):02d}",
        lambda: f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日上午{rng.randint(8, 11)}时",
    ]
    for i in range(18):
        s, x = sentence(), date_makers[i % len(date_makers)]()
        cases.append(Case(rng.choice(["{x}，{s}", "{s}（{x}）", "{s}截至{x}仍未解决。"]).format(x=x, s=s), "neg_date", keep=(x, s), negative=True))
    amount_makers: list[Callable[[], str]] = [
        lambda: f"{rng.randint(100, 9999999)}.{rng.randint(0, 99):02d}元", lambda: f"共计{rng.randint(1000, 999999)}元", lambda: f"每平方米{rng.randint(5000, 30000)}元",
        lambda: f"{rng.randint(1, 99)}.{rng.randint(1, 9)}万元", lambda: f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}元", lambda: f"￥{rng.randint(1000, 99999)}",
    ]
    for i in range(18):
        s, x = sentence(), amount_makers[i % len(amount_makers)]()
        cases.append(Case(rng.choice(["{s}金额{x}。", "已交{x}，{s}", "{s}涉及{x}"]).format(x=x, s=s), "neg_amount", keep=(x, s), negative=True))
    other_makers: list[Callable[[], str]] = [
        lambda: f"{rng.choice(ESTATES)}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元楼道的灯坏了很久", lambda: f"{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元门口堆满垃圾",
        lambda: f"拨打12345热线{rng.randint(2, 9)}次", lambda: f"{rng.randint(1, 999)}路公交车", lambda: f"邮编{rng.choice(['410011', '410005', '100101'])}",
        lambda: f"车位编号B{rng.randint(1, 3)}-{rng.randint(100, 999)}", lambda: f"供暖只有{rng.randint(12, 17)}.{rng.randint(0, 9)}度", lambda: f"面积{rng.randint(40, 200)}.{rng.randint(10, 99)}平方米",
    ]
    for i in range(24):
        s, x = sentence(), other_makers[i % len(other_makers)]()
        cases.append(Case(f"{s}{x}。", "neg_other_number", keep=(x, s), negative=True))
    # A staff member by surname and title after who they are (工作人员王老师): the surname names them, it goes.
    staff_phrasings = ["工作人员{x}电话联系过我，{s}", "{s}网格员{x}来看过。", "处理结果：工作人员{x}已电话联系来电人。{s}",
                       "{s}社区工作人员{x}上门核实。", "民警{x}到场处理，{s}"]
    for i in range(20):
        s = sentence()
        x = rng.choice(SURNAMES) + rng.choice(("老师", "师傅", "主任", "经理", "警官", "阿姨"))
        cases.append(Case(staff_phrasings[i % len(staff_phrasings)].format(x=x, s=s), "name_staff_title", (Secret(x, "name"),), (s,)))
    return cases


def fingerprint(cases: list[Case]) -> str:
    h = hashlib.sha256()
    for c in cases:
        h.update(repr((c.text, c.kind, c.secrets, c.keep, c.names, c.negative)).encode("utf-8"))
    return h.hexdigest()[:16]


def pipeline_mask(text: str, names: tuple[str, ...]) -> str:
    """The masker as normalization applies it to a work order's content: clean() (NFKC but Chinese punctuation), then mask_text."""
    from gateway.pipeline.normalize import clean
    from gateway.pipeline.privacy import mask_text

    return mask_text(clean(text) or "", list(names))


@dataclass
class Report:
    secrets: Counter[str] = field(default_factory=Counter)  # by secret kind
    removed: Counter[str] = field(default_factory=Counter)
    by_phrasing: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # kind -> [removed, secrets]
    negatives: Counter[str] = field(default_factory=Counter)  # by negative kind
    changed: Counter[str] = field(default_factory=Counter)
    keep_total: int = 0
    keep_lost: int = 0
    positive_keep_lost: int = 0
    missed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # examples: masked output
    altered: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def recall(self) -> float:
        return sum(self.removed.values()) / sum(self.secrets.values())

    def recall_of(self, kind: str) -> float:
        return self.removed[kind] / self.secrets[kind]

    @property
    def false_positive_rate(self) -> float:
        return sum(self.changed.values()) / sum(self.negatives.values())

    def false_positive_rate_of(self, kind: str) -> float:
        return self.changed[kind] / self.negatives[kind]

    def table(self, examples: int = 2) -> str:
        lines = [f"personal data on real sentences: {sum(self.secrets.values())} secrets, recall {self.recall:.3f}; "
                 f"{sum(self.negatives.values())} negative strings, false positives {self.false_positive_rate:.3f}; "
                 f"must-keep substrings destroyed {self.keep_lost}/{self.keep_total}"]
        lines.append("  recall by kind of secret:")
        for kind in sorted(self.secrets):
            lines.append(f"    {kind:<16} {self.removed[kind]:>3}/{self.secrets[kind]:<3} = {self.recall_of(kind):.3f}")
        lines.append("  recall by phrasing (all secrets of the string):")
        for kind in sorted(self.by_phrasing):
            hit, total = self.by_phrasing[kind]
            lines.append(f"    {kind:<16} {hit:>3}/{total:<3} = {hit / total:.3f}")
            lines += [f"        missed: {m}" for m in self.missed[kind][:examples]]
        lines.append("  false positives by kind of negative (string changed):")
        for kind in sorted(self.negatives):
            lines.append(f"    {kind:<22} {self.changed[kind]:>3}/{self.negatives[kind]:<3} = {self.false_positive_rate_of(kind):.3f}")
            lines += [f"        changed: {m}" for m in self.altered[kind][:examples]]
        return "\n".join(lines)


def score(cases: list[Case], mask: Callable[[str, tuple[str, ...]], str] = pipeline_mask) -> Report:
    from gateway.pipeline.normalize import clean

    report = Report()
    for case in cases:
        masked = mask(case.text, case.names)
        expected = clean(case.text) or ""
        if case.negative:
            report.negatives[case.kind] += 1
            if masked != expected:
                report.changed[case.kind] += 1
                report.altered[case.kind].append(f"{expected} → {masked}")
        missed = False
        for secret in case.secrets:
            report.secrets[secret.kind] += 1
            report.by_phrasing[case.kind][1] += 1
            if (clean(secret.value) or secret.value) not in masked:
                report.removed[secret.kind] += 1
                report.by_phrasing[case.kind][0] += 1
            else:
                missed = True
        if missed:
            report.missed[case.kind].append(masked)
        for kept in case.keep:
            report.keep_total += 1
            if (clean(kept) or kept) not in masked:
                report.keep_lost += 1
                report.positive_keep_lost += not case.negative
    return report
