"""What 12345 platforms actually export: ticket numbers as issued (Chinese prefixes), their own headers and categories."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, record, wait_for_state, weekly

ISSUED = ["热线-240914-013259", "网络-240527-020587", "2611160001234", "BJ12345·2024·000017", "工单（补）-01"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with running_gateway(tmp_path_factory.mktemp("exports")) as (_, served):
        yield served


def test_ticket_numbers_as_issued_are_stored_and_echoed_exactly(server: Any) -> None:
    report = weekly("TZ-ISSUED", [record(t, content=f"小区门口道路积水严重，请尽快处理（{i}）。") for i, t in enumerate(ISSUED)])
    answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report)
    assert answer.status == 202 and answer.body["records"] == len(ISSUED), answer.body
    wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-ISSUED")
    for ticket in ISSUED:
        path = "/api/v1/work-orders/" + quote(ticket, safe="")
        assert path.isascii()  # e.g. /api/v1/work-orders/%E7%83%AD%E7%BA%BF-240914-013259
        got = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", path)
        assert got.status == 200 and got.body["ticket_no"] == ticket, (ticket, got.body)


@pytest.mark.parametrize(("ticket", "says"), [("热线/240914", "'/'"), ("热线\n240914", "control character"), ("   ", "only spaces"),
                                              ("热线\x00", "control character"), ("热" * 65, "at most 64")])
def test_a_ticket_number_that_cannot_be_one_is_refused_with_a_clear_422(server: Any, ticket: str, says: str) -> None:
    report = weekly(f"TZ-BAD-{abs(hash(ticket)) % 10**8}", [record("2611160009999"), record(ticket)])
    answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report)
    assert answer.status == 422
    (problem,) = [e for e in answer.body["errors"] if e["loc"][:3] == ["records", 1, "ticket_no"]]
    assert says in problem["msg"], problem


# A Beijing 12345 platform's export, header row as it comes (issue: "refused whole: 422, 374 of 374 rows bad").
BEIJING_HEADERS = ["序号", "创建时间", "工单编号", "工单类型", "问题分类", "一级分类", "二级分类", "三级分类", "标签", "标题", "主要内容", "问题点位",
                   "工单状态", "工单来源", "来电人", "来电人电话/账号", "被反映区", "被反映街乡镇", "承办单位", "处理结果", "受理处理方式",
                   "市电话处理方式", "来电时间", "派单时间", "处理时限", "办结时间", "坐席ID", "坐席姓名", "企业名称", "重复反映告知单量", "政务分类"]
AGENT = "钱坐席"


def _beijing_row(n: int, ticket: str, levels: tuple[str, str, str], title: str, text: str, district: str = "通州区") -> list[Any]:
    return [n, "2024/9/14 9:50", ticket, "投诉", "->".join(levels), *levels, "", title, text, "梨园镇云景里小区",
            "已办结", "热线", "王某某", "****", district, "梨园镇", "梨园镇政府", "工作人员王老师电话联系了来电人，已协调处理。", "派单",
            "", "2024/9/14 9:54", "2024/9/14 10:20", "7.0", "2024/9/20 17:00", "A0137", AGENT, "", "2.0", "民生"]


def test_a_beijing_12345_export_is_read_as_it_is(server: Any) -> None:
    from tests.helpers.files import xlsx_with

    rows = [
        _beijing_row(1, "热线-240914-013259", ("劳动和社会保障", "社会保险", "社保基金管理"), "社保卡补办", "本人王某某，自74年来到通州，社保卡丢失，补办一直没有结果。"),
        _beijing_row(2, "网络-240527-020587", ("企业服务", "营商环境", "政务服务"), "企业开办", "公司在梨园镇办理营业执照，窗口排队时间太长。"),
        _beijing_row(3, "热线-240915-000001", ("住房", "物业管理", "物业服务"), "小区电梯", "云景里小区电梯经常故障，物业不修。", district="不详"),
    ]
    fields = {"kind": "weekly", "report_id": "BJ-2024-W37", "period_start": "2024-09-09", "period_end": "2024-09-15"}
    answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "北京12345工单.xlsx", xlsx_with(BEIJING_HEADERS, rows))
    assert answer.status == 202 and answer.body["records"] == 3 and answer.body["rejected"] == [], answer.body
    wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "BJ-2024-W37")
    first = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/" + quote("热线-240914-013259", safe="")).body
    assert first["ticket_no"] == "热线-240914-013259" and first["category"][:2] == ["劳动和社会保障", "社会保险"]
    second = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/" + quote("网络-240527-020587", safe="")).body
    assert second["category"][0] == "经济管理"  # the platform's 企业服务, by the bundled synonyms
    third = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/" + quote("热线-240915-000001", safe="")).body
    assert third["category"][0] == "城乡建设"
    for view in (first, second, third):
        assert AGENT not in str(view) and "工作人员王老师" not in str(view)  # columns the gateway does not use are kept out


def test_gateway_import_dry_run_says_what_would_be_stored_and_stores_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    from ops.gwenv import gateway_env
    from tests.helpers.files import xlsx_with

    rows = [_beijing_row(1, "热线-240914-013259", ("劳动和社会保障", "社会保险", "社保基金管理"), "社保卡补办",
                         "社保卡丢失。市民张建国女士称，电话13912345678。"),
            _beijing_row(2, "坏/票号", ("企业服务", "营商环境", "政务服务"), "企业开办", "窗口排队时间太长。")]
    source = tmp_path / "北京12345工单.xlsx"
    source.write_bytes(xlsx_with(BEIJING_HEADERS, rows))
    data = tmp_path / "data"
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "import", str(source), "--dry-run"], capture_output=True, text=True,
                            env={**gateway_env(data_dir=str(data)), "COLUMNS": "200"}, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "主要内容" in out and "content" in out and "坐席姓名" in out and "— not read" in out
    assert "2 row(s): 1 work order(s), 1 refused" in out and "第3行 ticket_no" in out
    assert "热线-240914-013259" in out and "市民张某某女士称" in out and "139****5678" in out
    assert "张建国" not in out and "13912345678" not in out and AGENT not in out
    assert "nothing was stored" in out and not data.exists()
