"""The masker's exact output for each of its rules: the secret gone is not enough, the office reads what is left.

Each case names the rule it holds; the expected strings were read one by one when they were written (2026-12-02).
"""
from __future__ import annotations

import pytest

from gateway.pipeline.privacy import mask_text

CASES = [
    ('身份证号11010519491231002X，', [], '身份证号[身份证号]，'),  # an ID number with a valid check digit
    ('身份证号110105194912310021，', [], '身份证号[银行卡号]，'),  # 18 digits failing the ID check: an account number
    ('订单号6222021234567890123已付款', [], '订单号6222021234567890123已付款'),  # a platform's number after its number word
    ('卡号6222021234567890123', [], '卡号[银行卡号]'),  # a card number
    ('家里电话5426330，请回电', [], '家里电话****6330，请回电'),  # a local number after 电话
    ('座机 8597-6700', [], '座机 ****6700'),  # a local number with a dash
    ('区号0571，号码57452457。', [], '区号0571，号码****2457。'),  # 区号…号码…
    ('(010)62345678', [], '010-****5678'),  # area code in brackets
    ('0730-5450-029', [], '0730-****0029'),  # a landline grouped oddly
    ('联系电话0731-84567890转8012', [], '联系电话0731-****7890转8012'),  # an extension stays
    ('电话138 0013 8000', [], '电话138****8000'),  # a mobile in groups
    ('电话１３８００１３８０００', [], '电话138****8000'),  # full-width digits
    ('+86 13800138000', [], '138****8000'),  # +86
    ('电话：13800138000、13900139000', [], '电话：138****8000、139****9000'),  # two mobiles
    ('住在云景里小区12号楼3单元1102室', [], '住在云景里小区*号楼*单元*室'),  # building, unit, room
    ('住翠竹苑第23栋402号', [], '住翠竹苑第*栋*号'),  # building and room
    ('住丽发新城7栋4单元1703', [], '住丽发新城*栋*单元*'),  # no 室
    ('家住麓谷D座803室', [], '家住麓谷*座*室'),  # a lettered block
    ('地址25-3-3302', [], '地址*-*-*'),  # building-unit-room with dashes
    ('本人系新塘村七里组93号村民', [], '本人系新塘村七里组*号村民'),  # a village home
    ('5号楼楼道的灯坏了', [], '5号楼楼道的灯坏了'),  # the place of a problem stays
    ('微信号abc12345', [], '微信号[微信号]'),  # WeChat
    ('加我vx：wxid_abcd1234', [], '加我vx：[微信号]'),  # a wxid
    ('QQ 12345678', [], 'QQ [QQ号]'),  # QQ
    ('扣扣：87654321', [], '扣扣：[QQ号]'),  # 扣扣
    ('京A12345违停', [], '京A****5违停'),  # a plate keeps province, city letter and last character
    ('工作人员王老师电话联系', [], '工作人员某老师电话联系'),  # staff by surname and title
    ('网格员李大姐来过', [], '网格员某大姐来过'),  # a grid worker
    ('工作人员小老师', [], '工作人员小老师'),  # 小 is no surname
    ('反映人肖德华表示', [], '反映人肖某某表示'),  # after 反映人, before 表示
    ('诉求人：粟玉兰；诉求内容', [], '诉求人：粟某某；诉求内容'),  # a form field
    ('我是退休职工苏定邦，', [], '我是退休职工苏某某，'),  # a split given name
    ('邻居覃学军的房子漏水', [], '邻居覃某某的房子漏水'),  # a neighbour
    ('何爱民大爷今年八十多岁了', [], '何某某大爷今年八十多岁了'),  # before a title
    ('周淑珍经理表示', [], '周某某经理表示'),  # before a title
    ('莫雨萱（女）反映：', [], '莫某某（女）反映：'),  # before a sex in brackets
    ('林凯，男，现年72岁，', [], '林某某，男，现年72岁，'),  # before ，男，
    ('钱尚武至今未退还押金。', [], '钱某某至今未退还押金。'),  # before what people do
    ('后来秦志强又打了一次电话。', [], '后来秦某某又打了一次电话。'),  # before 又打
    ('望回复，谢谢！江毅', [], '望回复，谢谢！江某某'),  # a signature after 谢谢
    ('——阚娟 2024年3月', [], '——阚某某 2024年3月'),  # a signature with a date
    ('对此反映人刘楠、林雨果、李玉等人', [], '对此反映人刘某某、林某某、李某某等人'),  # names listed with a name
    ('我和妻子栾新民都很着急', [], '我和妻子栾某某都很着急'),  # a relative
    ('我婆婆侯少华的养老金', [], '我婆婆侯某某的养老金'),  # a relative
    ('欧阳珍多次找到物业', [], '欧阳某某多次找到物业'),  # a compound surname
    ('反映人诸葛婷表示', [], '反映人诸葛某某表示'),  # a compound surname after a cue
    ('闫根生来电：路灯不亮', ['闫根生先生'], '闫某某来电：路灯不亮'),  # the caller field with its title
    ('李振来电', ['李振（先生）'], '李某某来电'),  # the caller field with a bracket
    ('向领导说明情况', [], '向领导说明情况'),  # 向 as a word
    ('业主和居民都需要', [], '业主和居民都需要'),  # 和 and 都 as words
    ('居民曾多次向社区反映', [], '居民曾多次向社区反映'),  # 曾 as a word
    ('及时告知和向消费者说明。', [], '及时告知和向消费者说明。'),  # 消费者 is no name
    ('王先生来电反映', [], '王先生来电反映'),  # a surname and title name nobody
    ('王府井大街', [], '王府井大街'),  # a place
    ('张家湾镇', [], '张家湾镇'),  # a place
    ('李子树', [], '李子树'),  # a word
    ('来电人于娜反映路灯不亮', [], '来电人于某某反映路灯不亮'),  # 于 after a strong cue is a surname
    ('面积120平方米的房子', [], '面积120平方米的房子'),  # 方米 is no name
    ('从彭浦到市区', [], '从彭浦到市区'),  # a place read as a name by the analyser
    ('我爱人都是外地户口', [], '我爱人都是外地户口'),  # 都是 after a relative
    ('村民房屋后护坡垮塌', [], '村民房屋后护坡垮塌'),  # a weak cue before a word
]


@pytest.mark.parametrize(("text", "caller", "expected"), CASES)
def test_the_masker_writes_exactly_this(text: str, caller: list[str], expected: str) -> None:
    assert mask_text(text, caller) == expected
