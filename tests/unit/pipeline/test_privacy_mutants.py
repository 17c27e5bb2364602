"""Masking, exactly: what each kind of personal data becomes, character for character (kills mutmut's survivors of gateway/pipeline/privacy.py).

Expected strings are written out by hand; the HMAC value was computed with
`printf 13812345678 | openssl dgst -sha256 -hmac k`, not with this code.
"""
from __future__ import annotations

from gateway.pipeline.privacy import citizen_key, luhn_valid, mask_name, mask_text


def test_an_id_card_number_becomes_exactly_the_placeholder() -> None:
    assert mask_text("身份证号110101199003074514") == "身份证号[身份证号]"


def test_a_bank_card_number_becomes_exactly_the_placeholder() -> None:
    assert mask_text("银行卡6222021234567890128被冻结") == "银行卡[银行卡号]被冻结"


def test_a_bank_card_written_in_groups_of_four_is_still_recognised() -> None:
    # the spaces and hyphens are removed before the Luhn check
    assert mask_text("卡号4111 1111 1111 1111被冻结") == "卡号[银行卡号]被冻结"
    assert mask_text("卡号4111-1111-1111-1111被冻结") == "卡号[银行卡号]被冻结"


def test_an_email_address_becomes_exactly_the_placeholder() -> None:
    assert mask_text("邮箱zhang.wei@example.com请回复") == "邮箱[邮箱]请回复"


def test_a_plate_keeps_province_city_letter_and_last_character() -> None:
    assert mask_text("车牌京A·12345停在门口") == "车牌京A****5停在门口"
    assert mask_text("车牌沪B8K9X2停在门口") == "车牌沪B****2停在门口"


def test_a_word_that_starts_like_a_non_name_after_wo_shi_is_no_name() -> None:
    # 我是本地人: 本地人 starts with 本地, which is not a name
    assert mask_text("我是本地人，小区路灯坏了") == "我是本地人，小区路灯坏了"


def test_a_name_inside_a_longer_name_is_masked_after_the_longer_one() -> None:
    # 张王五 first (张某某), then the other 王五 (王某某); 王五 first would leave 张王某某
    assert mask_text("张王五和王五都反映路灯坏了", ["张王五", "王五"]) == "张某某和王某某都反映路灯坏了"
    assert mask_text("王五和张王五都反映路灯坏了", ["王五", "张王五"]) == "王某某和张某某都反映路灯坏了"


def test_a_latin_name_keeps_its_first_letter_and_three_stars() -> None:
    assert mask_name("Tom") == "T***"
    assert mask_name("  王建国 ") == "王某某"
    assert mask_name("") == ""
    assert mask_name("王师傅") == "王师傅"


def test_luhn_counts_a_doubled_five_as_one() -> None:
    # "59": 9, then 5 doubled = 10 → 1 + 0 = 1; total 10
    assert luhn_valid("59") is True
    # "58": 8 + 1 = 9
    assert luhn_valid("58") is False


def test_the_citizen_key_is_the_first_32_hex_digits_of_the_hmac_of_the_last_11_digits() -> None:
    expected = "c365caf352e309a6776df9ae371e47d9"
    assert citizen_key("13812345678", b"k") == expected
    assert citizen_key("+86 138-1234-5678", b"k") == expected


def test_different_phones_have_different_citizen_keys() -> None:
    assert citizen_key("13812345678", b"k") != citizen_key("13912345678", b"k")


def test_a_phone_field_without_digits_gives_no_citizen_key() -> None:
    assert citizen_key("未留电话", b"k") is None
    assert citizen_key("", b"k") is None
    assert citizen_key(None, b"k") is None


def test_a_dictionary_word_before_what_anyone_may_do_is_no_name() -> None:
    # 桂花树 is nr in jieba's dictionary (29); 至今 is no act only a citizen does, so the word stays a word
    assert mask_text("小区里的桂花树至今没人修剪，枝条挡住了路灯") == "小区里的桂花树至今没人修剪，枝条挡住了路灯"


def test_a_dictionary_name_read_without_a_cue_is_a_word_unless_told_an_act_follows() -> None:
    from gateway.pipeline.privacy import _a_word

    assert _a_word("王建国", cued=False) is True  # nr, 12: without an act after it, a word of the dictionary
    assert _a_word("王建国", cued=False, acting=True) is False


def test_a_surname_before_an_everyday_word_is_no_name_even_before_what_a_citizen_does() -> None:
    # 高中学生 is nr in jieba's dictionary (3), but 中学 is an everyday word: 高 is no surname here
    assert mask_text("高中学生反映学校门口摊贩占道经营") == "高中学生反映学校门口摊贩占道经营"


def test_a_list_is_masked_in_a_text_that_also_holds_every_other_list_join() -> None:
    # 、 和 与 及 all in the text: 刘楠 and 林雨果 are found only as the others of 李玉's list
    assert mask_text("刘楠、林雨果、李玉等人与物业及开发商和解未果") == "刘某某、林某某、李某某等人与物业及开发商和解未果"


def test_a_name_is_masked_after_a_longer_one_the_citizen_left_out() -> None:
    # 李某某 is kept as written; the shorter 张伟 after it in the masking order is still masked
    assert mask_text("李某某多次殴打反映人张伟，派出所至今未处理") == "李某某多次殴打反映人张某某，派出所至今未处理"
