"""A labelled suite of complaint-like strings with and without personal data.

Each case names what must disappear (`secrets`) and what must stay (`keep`).
Built from templates filled with varied values (deterministic), so that it is
at least 200 strings and covers every kind the masker knows, and the look-alikes
it must leave alone (ticket numbers, dates, amounts, house numbers).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from gateway.pipeline.privacy import id_card_valid, luhn_valid


@dataclass(frozen=True)
class Case:
    text: str
    secrets: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    kind: str = "none"


SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红丹萍鹏飞辉波宁琳佳欣悦浩宇子涵梓轩一诺雨桐"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def _id_card(rng: random.Random) -> str:
    while True:
        body = f"{rng.choice(['110101', '320102', '440305', '510104', '610113'])}{rng.randint(1950, 2008)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        for check in "0123456789X":
            if id_card_valid(body + check):
                return body + check


def _bank_card(rng: random.Random) -> str:
    while True:
        number = rng.choice(["622202", "621700", "622848", "436742"]) + "".join(rng.choice("0123456789") for _ in range(rng.choice((10, 13))))
        if luhn_valid(number):
            return number


def _plate(rng: random.Random) -> str:
    tail = "".join(rng.choice(LETTERS + "0123456789") for _ in range(4)) + rng.choice("0123456789")
    return rng.choice(PROVINCES) + rng.choice(LETTERS) + tail


def build_cases(seed: int = 2026) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for _ in range(30):
        phone = _mobile(rng)
        fmt = rng.choice([phone, f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", f"{phone[:3]} {phone[3:7]} {phone[7:]}", f"+86{phone}", f"86-{phone}"])
        template = rng.choice(["联系电话{}，请回电。", "我的手机是{}", "电话：{}，小区门口积水", "请打{}联系我", "来电号码{}反映噪音"])
        cases.append(Case(template.format(fmt), [phone[3:7]], kind="mobile"))
    for _ in range(12):
        area, number = rng.choice(["010", "021", "022", "0755", "0531"]), "".join(rng.choice("0123456789") for _ in range(8))
        fmt = rng.choice([f"{area}-{number}", f"{area}{number}", f"{area} {number}"])
        cases.append(Case(f"座机{fmt}，工作日可联系", [number[:4]], kind="landline"))
    for _ in range(16):
        card = _id_card(rng)
        cases.append(Case(rng.choice(["身份证号{}，申请补办", "本人身份证{}已登记", "证件号码：{}"]).format(card), [card[6:14]], kind="id_card"))
    for _ in range(12):
        card = _bank_card(rng)
        cases.append(Case(rng.choice(["工资打到银行卡{}里", "卡号{}被冻结", "退款请转入{}"]).format(card), [card[6:-4]], kind="bank_card"))
    for _ in range(20):
        plate = _plate(rng)
        shown = rng.choice([plate, plate[:2] + "·" + plate[2:]])
        cases.append(Case(rng.choice(["车牌{}的车长期占用消防通道", "{}每天堵在门口", "举报车辆{}乱停"]).format(shown), [plate[2:6]], kind="plate"))
    for _ in range(14):
        user = "".join(rng.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(rng.randint(4, 9)))
        address = f"{user}{rng.randint(1, 99)}@{rng.choice(['qq.com', '163.com', 'gmail.com', 'example.gov.cn'])}"
        cases.append(Case(rng.choice(["邮箱{}，请回复", "材料已发至{}", "联系邮箱：{}"]).format(address), [user], kind="email"))
    for _ in range(30):
        name = _name(rng)
        template = rng.choice(["我叫{}，家住云景里小区", "本人{}，反映楼道堆物", "姓名：{}，诉求如下", "联系人：{}，电话稍后提供", "来电人{}反映路灯不亮"])
        cases.append(Case(template.format(name), [name[1:]], keep=[name[0]], kind="name_cue"))
    for _ in range(14):
        name = _name(rng)
        phone = _mobile(rng)
        title = rng.choice(["先生", "女士"])
        template = rng.choice(["联系人{n}{t}{p}", "请{n}{t}，电话{p}", "反映人{n}{t}，手机{p}"])
        cases.append(Case(template.format(n=name, t=title, p=phone), [name[1:], phone[3:7]], keep=[title], kind="name_title_phone"))
    for _ in range(12):
        name = _name(rng)
        cases.append(Case(f"{name}说小区供暖不热，{name}家有老人", [name[1:]], kind="caller_field"))

    negatives = [
        "工单编号2611160001234已办结", "2026年11月16日9时12分来电", "小区12号楼3单元楼道漏水", "退款金额共计12000元",
        "订单号1234567890123456未发货", "身份证号第7位有误", "王先生反映路灯不亮", "李女士希望加装电梯",
        "张师傅说垃圾没人清", "请于2026-11-20前答复", "编号A20261116001的问题", "门牌号88号至96号路段积水",
        "供暖温度只有15.5度", "公交站撤了以后要走1500米", "第47周周报", "12345热线转来的诉求",
        "面积120平方米的房子", "快递单号SF1234567890123", "工资拖欠3个月共计36000元", "我是小区业主，物业不作为",
        "他是本地居民", "京津冀协同发展", "沪上阿姨奶茶店油烟扰民", "粤菜馆夜间噪音", "京东快递站乱停车",
        "车位编号B2-135", "5号楼1单元门口的路灯坏了", "邮编101100", "统一社会信用代码91110112MA01234567",
        "电话打不通", "手机信号差", "我叫了好几次物业没人来", "本人已反映多次", "联系人未留姓名",
    ]
    cases.extend(Case(text, kind="negative") for text in negatives)
    for i in range(10):
        cases.append(Case(f"第{i + 3}次反映：{rng.choice(['路面塌陷', '路灯不亮', '下水道堵塞'])}，位置在{rng.randint(1, 40)}号楼东侧", kind="negative"))
    return cases
