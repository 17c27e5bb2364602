import pytest

from gateway.pipeline.privacy import citizen_key, id_card_valid, luhn_valid, mask_name, mask_text


@pytest.mark.parametrize(
    ("text", "names", "must_not_contain", "must_contain"),
    [
        ("我叫张伟，电话13812345678，小区积水", [], ["张伟", "13812345678"], ["张某某", "138****5678"]),
        ("联系电话 138 1234 5678 请回电", [], ["1234 5678"], ["138****5678"]),
        ("电话+86-13912345678", [], ["13912345678"], ["139****5678"]),
        ("座机010-62345678", [], ["62345678"], ["010-****5678"]),
        ("身份证号110101199003074514", [], ["110101199003074514"], ["[身份证号]"]),
        ("银行卡6222021234567890128被冻结", [], ["6222021234567890128"], ["[银行卡号]"]),
        ("邮箱zhang.wei@example.com", [], ["zhang.wei@example.com"], ["[邮箱]"]),
        ("来电人李四反映，李四家门口积水", [], ["李四"], ["李某某"]),
        ("本人赵敏，家住梨园镇", [], ["赵敏"], ["赵某某"]),
        ("刘德华说路灯坏了", ["刘德华"], ["刘德华"], ["刘某某"]),
    ],
)
def test_personal_data_is_masked(text: str, names: list[str], must_not_contain: list[str], must_contain: list[str]) -> None:
    masked = mask_text(text, names)
    for secret in must_not_contain:
        assert secret not in masked
    for shown in must_contain:
        assert shown in masked


@pytest.mark.parametrize(
    "text",
    [
        "工单编号2611160001234已办结",  # 13 digits: a ticket number, not a phone
        "身份证号第7位写错了",  # no number: nothing to mask (an 18-digit number after it is masked even with a wrong check digit)
        "我是小区业主，王先生反映",  # 业主 is not a name; 王先生 names nobody
        "订单号1234567890123456",  # fails the Luhn check
    ],
)
def test_what_is_not_personal_data_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_checksums() -> None:
    assert id_card_valid("11010119900307451X") is False
    assert id_card_valid("110101199003074514") is True
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_mask_name_forms() -> None:
    assert mask_name("王建国") == "王某某"
    assert mask_name("李女士") == "李女士"


def test_citizen_key_counts_the_same_phone_once_without_keeping_it() -> None:
    a = citizen_key("138-1234-5678", b"k")
    assert a == citizen_key("+8613812345678", b"k")
    assert a and "5678" not in a
    assert citizen_key("13812345678", b"other") != a
