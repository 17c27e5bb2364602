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
        assert AGENT not in str(view) and "王老师" not in str(view)  # columns the gateway does not use are kept out; staff named are masked


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


def test_every_upload_receipt_says_how_the_columns_were_read(server: Any) -> None:
    from tests.helpers.files import xlsx_with

    rows = [_beijing_row(1, "热线-240916-000101", ("住房", "物业管理", "物业服务"), "电梯", "云景里小区电梯经常故障，物业不修。")]
    fields = {"kind": "weekly", "report_id": "BJ-2024-W38", "period_start": "2024-09-16", "period_end": "2024-09-22"}
    answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "北京12345工单.xlsx", xlsx_with(BEIJING_HEADERS, rows))
    assert answer.status == 202, answer.body
    columns = answer.body["columns"]
    assert columns["read"]["主要内容"] == "content" and columns["read"]["标题"] == "title" and columns["read"]["问题点位"] == "address"
    assert columns["read"]["被反映街乡镇"] == "street" and columns["read"]["来电人电话/账号"] == "caller_phone"
    assert columns["read"]["工单类型"] == "ticket_type" and columns["read"]["办结时间"] == "closed_at" and columns["read"]["处理时限"] == "time_limit_days"
    assert {"序号", "标签", "坐席ID", "坐席姓名", "派单时间", "受理处理方式", "市电话处理方式", "政务分类"} == set(columns["ignored"])
    again = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "北京12345工单.xlsx", xlsx_with(BEIJING_HEADERS, rows))
    assert again.status == 200 and again.body["duplicate"] and again.body["columns"] == columns


def test_an_upload_with_dry_run_answers_what_it_would_store_and_stores_nothing(server: Any) -> None:
    from tests.helpers.files import xlsx_with

    rows = [_beijing_row(1, "热线-240917-000001", ("劳动和社会保障", "社会保险", "社保基金管理"), "社保卡补办",
                         "社保卡丢失。反映人：刘德明，电话13912345678。"),
            _beijing_row(2, "坏/票号", ("企业服务", "营商环境", "政务服务"), "企业开办", "窗口排队时间太长。")]
    fields = {"kind": "weekly", "report_id": "BJ-DRY-1", "period_start": "2024-09-16", "period_end": "2024-09-22"}
    answer = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "北京12345工单.xlsx", xlsx_with(BEIJING_HEADERS, rows), dry_run=True)
    assert answer.status == 200, answer.body
    preview = answer.body
    assert preview["dry_run"] is True and preview["rows"] == 2 and preview["good"] == 1 and preview["refused"] == 1
    assert preview["columns"]["read"]["主要内容"] == "content" and "坐席姓名" in preview["columns"]["ignored"]
    assert preview["problems"] and preview["problems"][0].startswith("第3行 ticket_no")
    (sample,) = preview["samples"]
    assert sample["ticket_no"] == "热线-240917-000001" and sample["ticket_type"] == "complaint" and sample["status"] == "closed"
    assert "刘德明" not in str(preview) and "13912345678" not in str(preview) and "反映人：刘某某" in sample["content"]
    assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/reports/BJ-DRY-1").status == 404  # nothing stored
    bad = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "北京12345工单.xlsx", xlsx_with(BEIJING_HEADERS, rows[:1]))
    assert bad.status == 202  # the same upload without dry_run is stored as usual


def test_what_the_loop_needs_of_an_export_is_kept(tmp_path: Path) -> None:
    """Ticket type, handling unit, status, 处理结果 (masked), 办结时间, 处理时限: into the work order and Table 2; 咨询 alone forms no clue."""
    from sqlalchemy import select

    from gateway.db.models import Clue, utcnow
    from gateway.loop.table2 import monthly_summary
    from gateway.periods import SHANGHAI
    from tests.helpers.files import xlsx_with

    def row(n: int, kind: str, text: str, closed: str, status: str, street: str = "梨园镇") -> list[Any]:
        cells = _beijing_row(n, f"热线-240914-{n:06d}", ("城市管理", "市政设施", "道路积水"), "", text)
        cells[3], cells[12], cells[17], cells[25] = kind, status, street, closed
        cells[19] = "经查，工作人员张丽电话联系来电人李振，已处理。"
        return cells

    flood = "云景里小区门口道路积水严重，下雨就没法走。"
    question = "请问居住证在哪里办理，需要带什么材料？"
    rows = [row(1, "投诉", flood, "2024/9/20 17:00", "已办结"),     # closed in 6 days: within 7.0
            row(2, "投诉", flood, "2024/9/25 09:00", "已办结"),     # closed after 11 days: late
            row(3, "诉求", flood, "", "办理中"),                    # not closed
            *(row(10 + i, "咨询", question, "2024/9/14 10:00", "已办结", street="永顺镇") for i in range(4))]
    with running_gateway(tmp_path) as (gw, served):
        fields = {"kind": "weekly", "report_id": "BJ-LOOP", "period_start": "2024-09-09", "period_end": "2024-09-15"}
        answer = call(served.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "工单.xlsx", xlsx_with(BEIJING_HEADERS, rows))
        assert answer.status == 202 and answer.body["records"] == 7, answer.body
        wait_for_state(served.url, CLIENT_KEY_ID, CLIENT_SECRET, "BJ-LOOP")
        first = call(served.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/" + quote("热线-240914-000001", safe="")).body
        assert first["ticket_type"] == "complaint" and first["handling_unit"] == "梨园镇政府" and first["status"] == "closed"
        assert first["closed_at"].startswith("2024-09-20T09:00:00") and first["time_limit_days"] == 7.0  # 17:00 Beijing time, in UTC
        assert "已处理" in first["result"] and "张丽" not in first["result"] and "李振" not in first["result"]
        with gw.uow.read_session() as session:
            clues = session.scalars(select(Clue)).all()
            month = utcnow().astimezone(SHANGHAI).strftime("%Y-%m")
            reconciliation = monthly_summary(session, month).reconciliation
        behind = {t for clue in clues for t in clue.ticket_nos}
        assert {"热线-240914-000001", "热线-240914-000002", "热线-240914-000003"} <= behind
        assert not any(t.startswith("热线-240914-00001") for t in behind)  # four 咨询 about one matter: counted, no clue
        assert reconciliation.work_orders_received == 7
        assert reconciliation.work_orders_closed == 6 and reconciliation.work_orders_closed_in_time == 5


CONFIGURED = """\
columns:
  诉求描述: content
  事发街道: street
  办理部门: handling_unit
  编号: ignore
  单号: ticket_no
categories:
  城管执法: 城乡建设
"""


def test_another_platforms_headers_and_categories_are_mapped_in_the_configuration(tmp_path: Path) -> None:
    from tests.helpers.files import xlsx_with

    config = tmp_path / "gateway.yaml"
    config.write_text(CONFIGURED, encoding="utf-8")
    headers = ["编号", "单号", "受理时间", "问题分类", "事发街道", "诉求描述", "办理部门"]
    rows = [[1, "JX-0001", "2024-09-14 09:50", "城管执法/占道经营", "梨园镇", "小区门口早市占道经营，垃圾遍地。", "梨园镇城管执法队"]]
    with running_gateway(tmp_path / "data", config=config) as (_, served):
        fields = {"kind": "weekly", "report_id": "JX-W37", "period_start": "2024-09-09", "period_end": "2024-09-15"}
        answer = call(served.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "其他平台.xlsx", xlsx_with(headers, rows))
        assert answer.status == 202, answer.body
        assert answer.body["columns"] == {"read": {"单号": "ticket_no", "受理时间": "received_at", "问题分类": "category", "事发街道": "street",
                                                   "诉求描述": "content", "办理部门": "handling_unit"}, "ignored": ["编号"]}
        wait_for_state(served.url, CLIENT_KEY_ID, CLIENT_SECRET, "JX-W37")
        order = call(served.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/work-orders/JX-0001").body
        assert order["category"][0] == "城乡建设" and order["street"] == "梨园镇" and order["handling_unit"] == "梨园镇城管执法队"
        assert not order["category_inferred"]


@pytest.mark.parametrize(("section", "says"), [("columns:\n  诉求描述: complaint\n", "'complaint', which is no field"),
                                               ("categories:\n  城管执法: 城管\n", "城管 is no category of the taxonomy")])
def test_a_mapping_onto_nothing_is_a_configuration_error_that_says_what_to_use(tmp_path: Path, section: str, says: str) -> None:
    from gateway.bootstrap import bootstrap
    from gateway.errors import ConfigError

    config = tmp_path / "gateway.yaml"
    config.write_text(section, encoding="utf-8")
    with pytest.raises(ConfigError, match=says):
        bootstrap(data_dir=tmp_path / "data", config=config).close()
