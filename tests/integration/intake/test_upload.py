"""File uploads: spreadsheets as offices write them, and files that are not what they claim."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.bootstrap import Gateway
from gateway.serve import ServerThread
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.files import csv_bytes, rows, xlsx, zip_bomb
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, wait_for_state

WEEK = {"kind": "weekly", "report_id": "TZ-2026-W47", "period_start": "2026-11-16", "period_end": "2026-11-22"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Gateway, ServerThread]]:
    with running_gateway(tmp_path) as pair:
        yield pair


def upload(server: ServerThread, filename: str, content: bytes, fields: dict[str, str] = WEEK, partial: bool = False):  # type: ignore[no-untyped-def]
    return call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, filename, content, partial=partial)


def test_xlsx_with_title_rows_blank_rows_and_split_category(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    answer = upload(server, "第47周工单.xlsx", xlsx(rows(5)))
    assert answer.status == 202, answer.body
    assert answer.body["records"] == 5
    status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    assert status["source"] == "upload" and status["records"]["routed"] == 5
    order = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/2611160000003").body
    assert order["category"] == ["城乡建设", "城市建设和市政管理", "道路积水"]  # 市政设施 mapped onto the taxonomy
    assert order["street"] == "梨园镇" and "1381234" not in order["content"] and "张三" not in order["content"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030(served: tuple[Gateway, ServerThread], encoding: str) -> None:
    _, server = served
    data = [["2611160000001", "2026/11/16 9:12", "城乡建设/市政设施/道路积水", "梨园镇", "云景里社区", "路面塌陷，请尽快修复。", "13812345678"],
            ["2611160000002", "2026年11月17日 10时05分", "教育文体>教育", "永顺镇", "西马庄社区", "幼儿园学位不足。", ""]]
    answer = upload(server, "report.csv", csv_bytes(data, encoding))
    assert answer.status == 202, answer.body
    assert answer.body["records"] == 2
    wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    order = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/2611160000002").body
    assert order["category"] == ["教育文体", "教育"] and order["content"] == "幼儿园学位不足。"


def test_jsonl_records(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    lines = ('{"ticket_no": "J1", "received_at": "2026-11-16T09:00:00", "category": "民政", "content": "养老驿站太少"}\n\n'
             '{"工单编号": "J2", "受理时间": "2026-11-16 10:00", "问题分类": "民政", "诉求内容": "社区缺少老年餐桌"}\n').encode("utf-8")
    answer = upload(server, "records.jsonl", lines)
    assert answer.status == 202 and answer.body["records"] == 2


def test_a_bad_row_is_named_by_its_spreadsheet_row(served: tuple[Gateway, ServerThread]) -> None:
    gateway, server = served
    data = rows(4)
    data[2][1] = "昨天下午"  # unreadable time, in spreadsheet row 3 (title) + 1 (header) + 2 (rows) + 1 (blank) + 1 = 7
    answer = upload(server, "w47.xlsx", xlsx(data))
    assert answer.status == 422
    assert answer.body["errors"] == [{"loc": ["row", 7, "received_at"], "msg": answer.body["errors"][0]["msg"]}]
    partial = upload(server, "w47.xlsx", xlsx(data), partial=True)
    assert partial.status == 202 and partial.body["records"] == 3
    assert partial.body["rejected"][0]["row"] == 7


@pytest.mark.parametrize(
    ("filename", "content", "status", "message"),
    [
        ("bomb.xlsx", zip_bomb(), 422, "unpack"),
        ("fake.xlsx", b"this is not a workbook", 422, "not an .xlsx"),
        ("report.pdf", b"%PDF-1.4", 415, ".xlsx, .csv"),
        ("noheader.csv", "a,b,c\n1,2,3\n".encode(), 422, "no header row"),
        ("latin1.csv", "工单编号,诉求内容\n".encode("utf-16"), 422, "neither UTF-8 nor GB18030"),
    ],
)
def test_files_that_are_not_what_they_claim_get_a_clear_answer(served: tuple[Gateway, ServerThread], filename: str, content: bytes, status: int, message: str) -> None:
    _, server = served
    answer = upload(server, filename, content)
    assert answer.status == status, answer.body
    assert message in answer.body["detail"]
    # and nothing accepted before is harmed
    good = upload(server, "ok.xlsx", xlsx(rows(2)))
    assert good.status == 202


def test_missing_form_fields_are_named(served: tuple[Gateway, ServerThread]) -> None:
    _, server = served
    answer = upload(server, "w.xlsx", xlsx(rows(1)), fields={"kind": "weekly"})
    assert answer.status == 422
    locs = [e["loc"] for e in answer.body["errors"]]
    assert ["report_id"] in locs
    assert any("period is required" in e["msg"] for e in answer.body["errors"])
