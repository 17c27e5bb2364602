"""The return path: Table 1s from workstations, supervision, reminders, Table 2 and the feedback push under faults."""
from __future__ import annotations

import asyncio
import io
import json
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from connectors.push_client import Answer, SignedClient
from connectors.simulator import STATE, create_simulator
from contracts.consultations import Consultation as Table1
from gateway.loop.supervision import chase_consultations
from gateway.loop.table1 import FileTable1, file_table1
from gateway.db.models import FeedbackPush, utcnow
from gateway.loop.feedback_push import push_month, resend
from gateway.periods import SHANGHAI
from gateway.serve import AppThread
from gateway.settings import ClientKey
from gateway.loop.forms_xlsx import table1_template
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.mailcheck import xlsx_rows
from tests.helpers.reports import call, wait_for_state, weekly
from tests.helpers.smtp import SmtpServer

LIYUAN = ("ws-liyuan", "liyuan-secret-0123456789")
YONGSHUN = ("ws-yongshun", "yongshun-secret-0123456789")
FEEDBACK = ("gateway-feedback", "feedback-secret-0123456789")
CONFIG = f"""\
clients:
  - {{key_id: {CLIENT_KEY_ID}, secrets: [{CLIENT_SECRET}]}}
  - {{key_id: {LIYUAN[0]}, secrets: [{LIYUAN[1]}], workstation: 梨园镇委员工作站}}
  - {{key_id: {YONGSHUN[0]}, secrets: [{YONGSHUN[1]}], workstation: 永顺镇委员工作站}}
"""


FLOODED = [f"26111600{i:05d}" for i in range(4)]  # the weekly report's four flooding complaints in one town


def _today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def _as(server_url: str, key: tuple[str, str], fn: str, *args: Any) -> Answer:
    async def go() -> Answer:
        async with aiohttp.ClientSession() as session:
            return await getattr(SignedClient(session, server_url, key[0], key[1]), fn)(*args)

    return asyncio.run(go())


def _table1(activity: date, *, clue_id: str | None = None, workstation: str = "梨园镇委员工作站", topic: str = "云景里小区道路积水治理",
            ticket: bool = True) -> dict[str, Any]:
    return {
        "activity_id": f"{workstation}-{activity.isoformat()}-{topic}",
        "workstation": workstation, "period": {"start": activity.isoformat(), "end": activity.isoformat()}, "topic": topic,
        "members": ["张委员", "李委员"], "responsible_person": "王站长", "committee_director": "赵主任", "filled_on": activity.isoformat(),
        "items": [
            {"text": "疏通小区门口雨水管", "outcome": "on_site", **({"clue_ids": [clue_id]} if clue_id else {})},
            {"text": "协调市政部门改造排水管线", "outcome": "short_term", "ticket_nos": ["2611160000001"] if ticket else [], "assigned_unit": "区水务局"},
            {"text": "建议将积水点改造纳入明年计划", "outcome": "unresolved"},
        ],
    }


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_table1_by_json_with_revisions_links_and_supervision(tmp_path: Path, config: Path, smtp: SmtpServer) -> None:
    with running_gateway(tmp_path, smtp_url=smtp.url, config=config) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        assert status["clues"] >= 1
        clue_id = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", f"/api/v1/work-orders/{FLOODED[0]}").body["clue_id"]
        assert clue_id is not None  # the four flooding complaints are a clue
        activity = date(2026, 9, 30)  # Oct 1–7 off, Sat Oct 10 a make-up working day: due Oct 10 (State Council 2026 calendar)
        assert _today() > date(2026, 10, 10)

        answer = _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", _table1(activity, clue_id=clue_id))
        assert answer.status == 201, answer.body
        receipt = answer.body
        assert receipt["consultation_id"] == "T1-000001" and receipt["revision"] == 1 and receipt["late"] is True
        assert receipt["due_on"] == "2026-10-10" and receipt["calendar_official"] is True
        assert receipt["committee"] == "urban"  # 梨园镇委员工作站 is one of urban's workstations
        assert len(receipt["supervision_ids"]) == 2  # the two items not resolved on site

        # The same document again changes nothing; a corrected one is revision 2, and the first filing still decides "late".
        assert _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", _table1(activity, clue_id=clue_id)).status == 200
        corrected = _table1(activity, clue_id=clue_id)
        corrected["items"][2]["outcome"] = "on_site"
        answer = _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", corrected)
        assert answer.status == 200 and answer.body["revision"] == 2 and len(answer.body["supervision_ids"]) == 1
        assert answer.body["due_on"] == "2026-10-10" and answer.body["late"] is True

        view = _as(server.url, LIYUAN, "get", "/api/v1/consultations/T1-000001").body
        assert view["revisions"] == [1, 2]
        assert [s["state"] for s in view["supervision"]] == ["open", "withdrawn"]
        linked = view["items"][0]
        assert linked["clue_ids"] == [clue_id]
        assert FLOODED[0] in linked["ticket_nos"] and set(linked["ticket_nos"]) <= set(FLOODED)  # the tickets behind the clue are stored with it
        assert view["items"][1]["ticket_nos"] == ["2611160000001"]

        # Another workstation can neither file for this one nor read its Table 1.
        assert _as(server.url, YONGSHUN, "send_json", "POST", "/api/v1/consultations", _table1(activity)).status == 403
        assert _as(server.url, YONGSHUN, "get", "/api/v1/consultations/T1-000001").status == 404

        # Unknown links are refused with what to check; nothing is stored.
        bad = _table1(activity - timedelta(days=1))
        bad["items"][0]["clue_ids"] = ["C999999-001"]
        bad["items"][1]["ticket_nos"] = ["0000000000000"]
        answer = _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", bad)
        assert answer.status == 422 and "C999999-001" in answer.body["detail"] and "0000000000000" in answer.body["detail"]
        # Exactly one outcome per item: anything else is not a Table 1.
        bad = _table1(activity)
        bad["items"][0]["outcome"] = "both"
        assert _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", bad).status == 422

        # Supervision progress, by API.
        sid = answer_sid = receipt["supervision_ids"][0]
        answer = _as(server.url, LIYUAN, "send_json", "PATCH", f"/api/v1/supervision/{sid}",
                     {"progress": "已完成管线勘察", "supervisor": "赵主任", "reporting_department": "区水务局", "reporting_date": _today().isoformat()})
        assert answer.status == 200 and answer.body["progress"] == "已完成管线勘察" and answer.body["state"] == "open"
        assert _as(server.url, YONGSHUN, "send_json", "PATCH", f"/api/v1/supervision/{answer_sid}", {"state": "done"}).status == 404
        metrics = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/metrics").body
    assert 'gateway_table1_received_total{timeliness="late"} 1.0' in metrics
    assert 'gateway_supervision_entries{state="open"} 1.0' in metrics


def test_table1_xlsx_round_trip_template_filled_uploaded(tmp_path: Path, config: Path) -> None:
    activity = _today() - timedelta(days=40)
    wb = load_workbook(io.BytesIO(table1_template("通州协商议事厅")))
    ws = wb.active
    assert ws["A1"].value == "通州协商议事厅协商议事活动开展情况表"
    ws["B2"], ws["D2"] = datetime.combine(activity, datetime.min.time()), f"{activity.year}年{activity.month}月{activity.day}日"
    ws["B3"], ws["B4"], ws["B5"] = "梨园镇委员工作站", "老旧小区加装电梯", "张委员、李委员"
    ws["B7"], ws["C7"] = "协调一号楼加装电梯意见", "√"
    ws["B8"], ws["D8"] = "申请加装电梯补贴", "√"
    ws["B18"], ws["D18"], ws["F18"] = "王站长", "赵主任", activity.isoformat()
    filled = io.BytesIO()
    wb.save(filled)
    with running_gateway(tmp_path, config=config) as (_, server):
        answer = _as(server.url, LIYUAN, "upload_file", "/api/v1/consultations/upload", {}, "附表1-加装电梯.xlsx", filled.getvalue())
        assert answer.status == 201, answer.body
        assert answer.body["late"] is True  # 40 days after the activity
        view = _as(server.url, LIYUAN, "get", f"/api/v1/consultations/{answer.body['consultation_id']}").body
        assert [(i["text"], i["outcome"]) for i in view["items"]] == [("协调一号楼加装电梯意见", "on_site"), ("申请加装电梯补贴", "short_term")]
        assert view["document"]["members"] == ["张委员", "李委员"] and view["document"]["committee_director"] == "赵主任"

        # Two ticks on one row, and a row with a tick but no item: each problem named by its row, in the form's words.
        ws["E7"] = "√"
        ws["C9"] = "√"
        bad = io.BytesIO()
        wb.save(bad)
        answer = _as(server.url, LIYUAN, "upload_file", "/api/v1/consultations/upload", {}, "附表1.xlsx", bad.getvalue())
        assert answer.status == 422
        assert "第7行" in answer.body["detail"] and "只选一种" in answer.body["detail"] and "第9行" in answer.body["detail"]
        answer = _as(server.url, LIYUAN, "upload_file", "/api/v1/consultations/upload", {}, "附表1.xlsx", b"not a workbook")
        assert answer.status == 422 and "Excel" in answer.body["detail"]


def test_table1_filed_on_a_holiday_and_after_the_deadline(tmp_path: Path, config: Path) -> None:
    from gateway.bootstrap import bootstrap

    gateway = bootstrap(data_dir=tmp_path, config=config)
    try:
        def file(activity: date, filed: datetime, topic: str) -> Any:
            doc = Table1.model_validate(_table1(activity, topic=topic, ticket=False))
            return file_table1(gateway.uow(), FileTable1("office", doc, "api"), routing=gateway.routing, calendar=gateway.calendar, now=filed)[0]

        shanghai = SHANGHAI
        on_holiday = file(date(2026, 9, 30), datetime(2026, 10, 5, 10, tzinfo=shanghai), "国庆期间报送")  # due Sat Oct 10 (a make-up day)
        assert on_holiday.due_on == date(2026, 10, 10) and on_holiday.late is False
        last_minute = file(date(2026, 9, 29), datetime(2026, 10, 9, 23, 59, tzinfo=shanghai), "最后一天报送")  # due Fri Oct 9
        assert last_minute.due_on == date(2026, 10, 9) and last_minute.late is False
        late = file(date(2026, 9, 30), datetime(2026, 10, 11, 0, 1, tzinfo=shanghai), "逾期报送")
        assert late.late is True
        into_unknown = file(date(2026, 12, 30), datetime(2027, 1, 4, 9, tzinfo=shanghai), "跨年")
        assert into_unknown.due_on == date(2027, 1, 4) and into_unknown.calendar_official is False and into_unknown.late is False
    finally:
        gateway.close()
    assert 'gateway_calendar_fallback_days_total{year="2027"}' in gateway.metrics.exposition().decode()


def test_missing_table1_and_overdue_supervision_are_chased_once(tmp_path: Path, config: Path, smtp: SmtpServer) -> None:
    with running_gateway(tmp_path, smtp_url=smtp.url, config=config) as (gateway, server):
        long_ago = _today() - timedelta(days=120)
        planned = {k: v for k, v in _table1(_today() - timedelta(days=30), topic="停车难问题", ticket=False).items() if k != "items"} | {"planned": True}
        assert _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", planned).status == 201
        assert _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", _table1(long_ago, ticket=False)).status == 201
        missing, overdue = chase_consultations(gateway.mailer, gateway.routing)
        assert missing == ["T1-000001"] and len(overdue) == 2  # 60 and 90 days after an activity 120 days ago
        assert chase_consultations(gateway.mailer, gateway.routing) == ([], [])
        metrics = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/metrics").body
    messages = smtp.inbox.wait_for(3)
    subjects = sorted(str(m["Subject"]) for _, m in messages)
    assert sum(s.startswith("【催报】梨园镇委员工作站") for s in subjects) == 1
    assert sum(s.startswith("【催办】梨园镇委员工作站") for s in subjects) == 2
    assert all(rcpts == ["chengjian@zhengxie.example"] for rcpts, _ in messages)
    assert 'gateway_table1{state="missing"} 1.0' in metrics and 'gateway_supervision_entries{state="overdue"} 2.0' in metrics
    assert 'gateway_urges_total{reason="table1_missing"} 1.0' in metrics


@pytest.fixture
def command_center() -> Iterator[AppThread]:
    server = AppThread(create_simulator([], {FEEDBACK[0]: ClientKey(key_id=FEEDBACK[0], secrets=[FEEDBACK[1]])})).start()
    yield server
    server.stop()


def _faults(server: AppThread, plan: list[str]) -> None:
    request = urllib.request.Request(server.url + "/_sim/faults", data=json.dumps({"plan": plan, "slow_s": 2.0}).encode(), method="POST")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def test_table2_and_the_feedback_push_under_faults(tmp_path: Path, config: Path, smtp: SmtpServer, command_center: AppThread) -> None:
    from gateway.loop.table2 import monthly_summary

    month_day = _today().replace(day=1) + timedelta(days=2)  # inside this month, whatever today is
    month = f"{month_day.year}-{month_day.month:02d}"
    with running_gateway(tmp_path, smtp_url=smtp.url, config=config, feedback_url=command_center.url, feedback_key=":".join(FEEDBACK),
                         feedback_backoff_s=0.05, feedback_timeout_s=1.0, feedback_max_attempts=8) as (gateway, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        assert _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", _table1(month_day)).status == 201
        other = _table1(month_day, workstation="永顺镇委员工作站", topic="幼儿园学位")
        other["items"] = other["items"][1:]
        assert _as(server.url, YONGSHUN, "send_json", "POST", "/api/v1/consultations", other).status == 201
        with gateway.uow.read_session() as session:
            summary = monthly_summary(session, month)
        assert summary.totals == {"items": 5, "on_site": 1, "short_term": 2, "unresolved": 2}
        assert [(r["workstation"], r["items"]) for r in summary.rows] == [("梨园镇委员工作站", 3), ("永顺镇委员工作站", 2)]

        state = command_center.app[STATE]
        _faults(command_center, ["503", "drop", "429", "lost_answer", "408", "slow", "500"])
        result = push_month(gateway.feedback(), month)
        assert result.state == "sent" and result.attempts == 8 and result.new_revision
        keys = {key for key, _ in state.feedback_log}
        assert keys == {f"feedback-{month}-r1"}  # every attempt under the same key
        assert list(state.feedback) == [f"feedback-{month}-r1"]  # one document at the other end, though it was stored twice
        document = state.feedback[f"feedback-{month}-r1"]
        assert document["table2"]["totals"] == summary.totals
        touched = {t["ticket_no"]: t for t in document["tickets"]}
        assert [o["outcome"] for o in touched["2611160000001"]["outcomes"]] == ["short_term", "short_term"]

        requests = len(state.feedback_log)
        assert push_month(gateway.feedback(), month).state == "sent" and len(state.feedback_log) == requests  # unchanged: not pushed again

        # A permanent refusal is kept as failed and re-sent by an operator, with the same key.
        changed = _table1(month_day, topic="新增议题")
        assert _as(server.url, LIYUAN, "send_json", "POST", "/api/v1/consultations", changed).status == 201
        _faults(command_center, ["422"])
        failed = push_month(gateway.feedback(), month)
        assert failed.state == "failed" and failed.status == 422 and failed.idempotency_key == f"feedback-{month}-r2"
        again = resend(gateway.feedback(), failed.idempotency_key)
        assert again.state == "sent" and again.idempotency_key == failed.idempotency_key
        assert sorted(state.feedback) == [f"feedback-{month}-r1", f"feedback-{month}-r2"]
        with gateway.uow.read_session() as session:
            assert [(p.revision, p.state) for p in session.scalars(select(FeedbackPush).order_by(FeedbackPush.id))] == [(1, "sent"), (2, "sent")]
        metrics = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/metrics").body
    assert 'gateway_feedback_pushes_total{result="failed"} 1.0' in metrics
    assert 'gateway_feedback_pushes_total{result="sent"} 2.0' in metrics
    print("feedback log (Idempotency-Key, fault):", *state.feedback_log, sep="\n  ")


def test_report_monthly_writes_table2_as_the_form(tmp_path: Path, config: Path) -> None:
    import subprocess
    import sys

    from tests.helpers.processes import gateway_env

    from gateway.bootstrap import bootstrap

    activity = date(2026, 10, 3)  # a holiday: counted from that day, due Sat Oct 10 (a make-up working day)
    gateway = bootstrap(data_dir=tmp_path, config=config)
    try:
        receipt, _ = file_table1(gateway.uow(), FileTable1(LIYUAN[0], Table1.model_validate(_table1(activity, ticket=False)), "api"),
                                 routing=gateway.routing, calendar=gateway.calendar, now=datetime(2026, 10, 12, 9, tzinfo=SHANGHAI))
    finally:
        gateway.close()
    assert receipt.due_on == date(2026, 10, 10) and receipt.late is True  # filed Mon Oct 12
    month = f"{activity.year}-{activity.month:02d}"
    out = tmp_path / "附表2.xlsx"
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "report", "monthly", month, "--xlsx", str(out)], capture_output=True, text=True,
                            env=gateway_env(data_dir=str(tmp_path), config=str(config)), cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "梨园镇委员工作站" in result.stdout and "合计" in result.stdout and "核对数据" in result.stdout
    rows = xlsx_rows(out.read_bytes())
    assert rows[0][0] == f"协商议事厅{activity.year}年{activity.month}月协商议事活动开展情况汇总表"
    assert rows[2][:4] == ["委员工作站（室）或活动组名称", "协商议事主题", "协商议事具体事项数量（件）", "其中：（件）"]
    assert rows[4] == ["梨园镇委员工作站", "云景里小区道路积水治理", 3, 1, 1, 1]
    assert rows[5] == ["合计", None, 3, 1, 1, 1]
    assert ["本月活动情况表（附表1）收到（份）", 1] in rows and ["其中逾期报送（份）", 1] in rows


def test_command_line_template_import_results_and_the_supervision_sheet(tmp_path: Path, config: Path) -> None:
    import subprocess
    import sys

    from tests.helpers.processes import gateway_env

    calendar = tmp_path / "calendar.yaml"
    calendar.write_text("holidays: [2027-01-01]\n", encoding="utf-8")
    env = gateway_env(data_dir=str(tmp_path), config=str(config), calendar_file=str(calendar), hall_name="通州协商议事厅")

    def gateway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)

    blank = tmp_path / "附表1.xlsx"
    assert gateway("template", "table1", str(blank)).returncode == 0
    wb = load_workbook(blank)
    ws = wb.active
    assert ws["A1"].value == "通州协商议事厅协商议事活动开展情况表"
    ws["B2"], ws["B3"], ws["B4"] = "2026-12-30", "梨园镇委员工作站", "跨年供暖保障"
    ws["B7"], ws["D7"] = "协调供热公司加强巡检", "√"
    ws["B8"], ws["E8"] = "建议修订供热管理办法", "√"
    wb.save(tmp_path / "filled.xlsx")
    result = gateway("import-results", str(tmp_path / "filled.xlsx"))
    assert result.returncode == 0, result.stderr
    # Dec 31, (Jan 1 2027 off by the override file), Jan 4, Jan 5; the year is not official yet, and the output says so.
    assert "due 2027-01-05" in result.stdout and "S-000001, S-000002" in result.stdout and "not known yet" in result.stdout

    sheet = tmp_path / "督办.xlsx"
    assert gateway("supervision", "export", str(sheet)).returncode == 0
    wb = load_workbook(sheet)
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["督办编号", "协商日期", "协商主题", "协商建议"] and ws.cell(row=2, column=1).value == "S-000001"
    ws.cell(row=2, column=header.index("进展情况") + 1).value = "已完成巡检，用户室温达标"
    ws.cell(row=2, column=header.index("办理状态") + 1).value = "已办结"
    ws.cell(row=3, column=header.index("督办负责人") + 1).value = "赵主任"
    wb.save(sheet)
    result = gateway("supervision", "import", str(sheet))
    assert result.returncode == 0 and "2 supervision entries updated" in " ".join(result.stdout.split()), result.stdout + result.stderr
    listed = gateway("supervision", "list", "--open").stdout
    assert "S-000002" in listed and "S-000001" not in listed
