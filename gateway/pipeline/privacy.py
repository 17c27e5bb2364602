"""Find and mask citizens' personal data before anything leaves the gateway.

Phone numbers keep their first three and last four digits (138****0000), the
way Chinese offices publish them; ID-card and bank-card numbers (checksums
verified, so order numbers are left alone) and e-mail addresses are replaced;
licence plates keep province, city letter and last character (京A****5);
full names become surname + 某某 (from the caller field, and from cues: 我叫…,
姓名…, 联系人…, a full name before 先生/女士 next to a phone number). A bare
"王先生/李女士" names nobody and is kept.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

_HAN = r"[\u4e00-\u9fff]"
_STOP = r"(?=[，,。.；;：:、\s（(）)]|是|住|家住|在|电话|手机|联系|今年|反映|来电|的|$)"

MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9][0-9])[- ]?([0-9]{4})[- ]?([0-9]{4})(?![0-9])")
LANDLINE = re.compile(r"(?<![0-9])(0[1-9][0-9]{1,2})[- ]?([0-9]{3,4})([0-9]{4})(?![0-9])")
ID_CARD = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])")
BANK_CARD = re.compile(r"(?<![0-9])(?:[0-9]{4}[ -]?){3}[0-9]{4,7}(?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 京A·12345, 沪B8K9X2, 粤BD12345 (new energy), 京A1234学
PLATE = re.compile(r"(?<![A-Za-z0-9])([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-HJ-NP-Z])[·•.\s-]?([A-HJ-NP-Z0-9]{4,5})([A-HJ-NP-Z0-9挂学警港澳])(?![A-Za-z0-9])")
_PHONE_AHEAD = r"(?=(?:先生|女士)[，,:：\s]*(?:的)?(?:电话|手机|联系电话|联系方式)?(?:是|为)?[:：\s]*(?:\+?86[- ]?)?(?:1[3-9][0-9]|0[1-9][0-9]{1,2}))"
_NAME_BEFORE_TITLE = re.compile(
    rf"(?:(?<=[，,。；;：:\s（(])|(?<=联系人)|(?<=来电人)|(?<=反映人)|(?<=市民)|(?<=居民)|(?<=业主)|(?<=请)|(?<=找)|(?<=联系)|^)({_HAN}{{2,3}}){_PHONE_AHEAD}"
)
NAME_CUES = [
    re.compile(rf"(?:我叫|本人叫|我是|本人|姓名[:：]?\s*|联系人[:：]?\s*|来电人[:：]?\s*)({_HAN}{{2,3}}?){_STOP}"),
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Words that follow 我是/本人 but are not names.
_NOT_NAMES = {"业主", "居民", "村民", "租户", "市民", "家长", "学生", "老人", "司机", "员工", "患者", "退休", "本地", "外地", "这里", "小区"}


def id_card_valid(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_name(name: str) -> str:
    name = name.strip()
    if not name:
        return name
    if re.fullmatch(rf"{_HAN}(?:先生|女士|师傅|阿姨|大爷|老师)", name):
        return name
    return name[0] + "某某" if re.match(_HAN, name) else name[0] + "***"


def _names_in(text: str) -> set[str]:
    found = {m.group(1) for m in _NAME_BEFORE_TITLE.finditer(text)}
    for cue in NAME_CUES:
        for match in cue.finditer(text):
            name = match.group(1)
            if name not in _NOT_NAMES and not any(name.startswith(w) for w in _NOT_NAMES):
                found.add(name)
    return found


def mask_text(text: str, names: Iterable[str | None] = ()) -> str:
    """Mask every kind of personal data this module knows in `text`."""
    if not text:
        return text
    text = ID_CARD.sub(lambda m: "[身份证号]" if id_card_valid(m.group(0)) else m.group(0), text)
    text = BANK_CARD.sub(
        lambda m: "[银行卡号]" if luhn_valid(re.sub(r"[ -]", "", m.group(0))) else m.group(0), text
    )
    text = EMAIL.sub("[邮箱]", text)
    text = PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}{'*' * len(m.group(3))}{m.group(4)}", text)
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
    all_names = {n.strip() for n in names if n and len(n.strip()) >= 2} | _names_in(text)
    for name in sorted(all_names, key=len, reverse=True):
        masked = mask_name(name)
        if masked != name:
            text = text.replace(name, masked)
    return text


def citizen_key(phone: str | None, secret: bytes) -> str | None:
    """A keyed hash of the caller's phone: counts distinct citizens without keeping numbers."""
    if not phone:
        return None
    digits = re.sub(r"[^0-9]", "", phone)[-11:]
    return hmac.new(secret, digits.encode(), hashlib.sha256).hexdigest()[:32] if digits else None
