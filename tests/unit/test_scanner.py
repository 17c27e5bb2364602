"""The suite-wide personal-data scanner finds real leaks, and only those.

A leak planted in a gateway log file or an .eml is reported; a log full of
UUIDs, ticket numbers, masked numbers and floats is not (the hex tail of a
UUID, …-d15121174580, once read as a mobile number and failed runs for nothing).
The planted files live outside pytest's temporary directory, which the
session-end scan reads.
"""
from __future__ import annotations

import json
import random
import tempfile
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.helpers.scanner import findings_in, scan


@pytest.fixture
def outside() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="scanner-test-") as folder:
        yield Path(folder)


def test_the_scanner_finds_unmasked_phones_ids_and_names() -> None:
    found = findings_in("王建国来电，电话13812345678，身份证11010519491231002X。", {"王建国"})
    assert sorted(found) == ["ID card 11010519491231002X", "caller name 王建国", "mobile 13812345678"]


@pytest.mark.parametrize("text", [
    "市民反映13812345678",  # right after Chinese text
    "联系电话13812345678。",
    "电话:13812345678",
    "电话：13812345678",
    "phone 13812345678",
    "+86 13812345678",
    "+8613812345678",
    "+86-13812345678",
    "8613812345678",
    "13812345678",
    '{"caller_phone": "13812345678"}',
    "(13812345678)",
    "phone=13812345678&x=1",
    "电话13812345678，另一个：15912345678",
])
def test_a_mobile_number_where_one_can_stand_is_found(text: str) -> None:
    found = findings_in(text, set())
    assert "mobile 13812345678" in found
    if "15912345678" in text:
        assert "mobile 15912345678" in found


@pytest.mark.parametrize("text", [
    "request_id=5f0c3a2e-8b7d-4c1e-9a6f-d15121174580",  # the hex tail of a UUID
    "trace 0b8e41f2-77c3-4d6a-b1e5-a13260416563 done",
    "id=5F0C3A2E-8B7D-4C1E-9A6F-D15121174580",
    "gateway_x 5f0c3a2e8b7d4c1e9a6fd15121174580",  # a UUID without dashes
    "工单2611160000001",  # longer runs of digits
    "138123456789012",
    "x13812345678",  # glued to letters
    "13812345678abc",
    "138****5678",  # masked
    "1.13812345678",  # the decimals of a float
    "gateway_x_created 1.7954310005335427e+09",
])
def test_numbers_that_are_not_a_mobile_are_not_findings(text: str) -> None:
    assert findings_in(text, set()) == []


def test_masked_text_ticket_numbers_and_float_digits_are_not_findings() -> None:
    text = "王某某，电话138****5678，身份证110105********002X，工单2611160000001，gateway_x_created 1.7954310005335427e+09"
    assert findings_in(text, {"王建国"}) == []
    assert findings_in("110105194912310021", set()) == []  # a wrong checksum is not an ID number


def _uuid_log(rng: random.Random, lines: int) -> str:
    out = []
    for i in range(lines):
        ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(3)]
        record = {"level": "info", "logger": "gateway.pipeline.route", "message": "routed", "report_pk": i, "request_id": str(ids[0]),
                  "outbox": ids[1].hex, "trace": str(ids[2]).upper(), "ticket_no": f"26111600{i:05d}", "took_s": rng.random()}
        out.append(json.dumps(record, ensure_ascii=False))
    # the two tails that were once reported as mobile numbers
    out.append('{"message": "sent", "request_id": "5f0c3a2e-8b7d-4c1e-9a6f-d15121174580"}')
    out.append('{"message": "sent", "request_id": "0b8e41f2-77c3-4d6a-b1e5-a13260416563", "content": "王某某，电话138****5678"}')
    return "\n".join(out) + "\n"


def test_a_log_full_of_uuids_has_no_finding(outside: Path) -> None:
    (outside / "gateway-run.log").write_text(_uuid_log(random.Random(20261123), 20_000), encoding="utf-8")
    counts, problems = scan(outside, collected=False, names={"王建国"})
    assert counts["log files"] == 1 and counts["log lines"] == 20_002
    assert problems == []


def test_a_planted_leak_in_a_log_file_and_an_eml_is_reported(outside: Path) -> None:
    log = _uuid_log(random.Random(7), 500).splitlines()
    log.insert(250, json.dumps({"message": "normalized", "request_id": str(uuid.UUID(int=7, version=4)),
                                "content": "赵丽华反映小区路灯不亮，电话：13912345678"}, ensure_ascii=False))
    (outside / "gateway-worker.log").write_text("\n".join(log) + "\n", encoding="utf-8")
    message = EmailMessage()
    message["Subject"] = "【线索包】测试"
    message.set_content("市民来电，+8615812345678，身份证11010519491231002X")
    (outside / "mail").mkdir()
    (outside / "mail" / "P1.eml").write_bytes(bytes(message))
    counts, problems = scan(outside, collected=False, names={"赵丽华"})
    assert counts["log files"] == 1 and counts["eml files"] == 1
    log_path, eml_path = outside / "gateway-worker.log", outside / "mail" / "P1.eml"
    assert problems == sorted([
        f"{log_path}: mobile 13912345678",
        f"{log_path}: caller name 赵丽华",
        f"{eml_path}: mobile 15812345678",
        f"{eml_path}: ID card 11010519491231002X",
    ])
