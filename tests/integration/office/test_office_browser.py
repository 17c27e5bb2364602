"""The office's pages in a real browser: Debian's headless Chromium driven by Playwright (no browser downloaded).

A week goes through the real pipeline first, so the pages show the clues and
packets the gateway made. Screenshots of each page are kept as test artefacts
(test-artifacts/office/, or GATEWAY_TEST_ARTIFACTS); docs/office-inbox.png is one of them.
"""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.db.models import AuditEntry, Clue, Packet
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.office import PASSWORD, add
from tests.helpers.reports import call, wait_for_state, weekly
from tests.helpers.services import required

ARTIFACTS = Path(os.environ.get("GATEWAY_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts")) / "office"


def _missing(message: str) -> None:
    if required():
        pytest.fail(message + " (GATEWAY_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        _missing("headless Chromium is not installed; install it with: apt-get install -y chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[test]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        # Debian's Chromium, never one Playwright would download; no sandbox inside a container run as root.
        launched = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield launched
        finally:
            launched.close()


def _apart(fn: Any, *args: Any) -> Any:
    """Run a helper that starts its own event loop (asyncio.run) in a thread: Playwright's sync API holds one in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def _shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
    return path


def _log_in(browser: Any, base: str, username: str, password: str = PASSWORD) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/office/")
    assert page.url.startswith(f"{base}/office/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("input[type=submit]")
    return context, page


def test_the_office_and_a_committee_work_their_clues_in_chromium(tmp_path: Path, browser: Any) -> None:
    with running_gateway(tmp_path) as (gw, server):
        _apart(call, server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        _apart(wait_for_state, server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        add(gw, "bangongshi", "office")
        add(gw, "chengjian", "committee", committee="urban")
        with gw.uow.read_session() as s:
            flooding = s.scalar(select(Clue).where(Clue.committee_id == "urban", Clue.title.contains("云景里")))
            kindergarten = s.scalar(select(Clue).where(Clue.committee_id == "education"))
        assert flooding is not None and kindergarten is not None
        base = server.url

        # The login page, then the office: every committee's clues, hottest first.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base}/office/login")
        assert page.title().startswith("登录") and page.is_visible("text=用户登录")
        _shot(page, "login")
        context.close()
        context, page = _log_in(browser, base, "bangongshi")
        assert page.url == f"{base}/office/"
        body = page.inner_text("body")
        assert flooding.title in body and kindergarten.title in body and "区政协办公室" in body
        assert body.index(flooding.title) < body.index(kindergarten.title) or flooding.score < kindergarten.score
        _shot(page, "inbox-office")
        page.select_option("select[name=committee]", "education")
        page.click("input[value=查询]")
        assert kindergarten.title in page.inner_text("body") and flooding.title not in page.inner_text("body")
        context.close()

        # 城建环保委: its own clue only; another committee's clue URL is refused in Chinese.
        context, page = _log_in(browser, base, "chengjian")
        body = page.inner_text("body")
        assert flooding.title in body and kindergarten.title not in body
        _shot(page, "inbox-committee")
        answer = page.goto(f"{base}/office/clues/{kindergarten.clue_id}")
        assert answer is not None and answer.status == 403
        assert "无权查看" in page.inner_text("body") and kindergarten.title not in page.inner_text("body")
        _shot(page, "clue-403")

        # Its clue: the page, then 签收 — the packet is acknowledged, as by the email's link.
        page.goto(f"{base}/office/clues/{flooding.clue_id}")
        assert page.inner_text("#clue-state") == "未签收"
        body = page.inner_text("body")
        assert "社情民意信息线索" in body and "相关工单" in body and "诉求摘录（已脱敏）" in body and flooding.ticket_nos[0] in body
        assert "13812345678" not in page.content()
        _shot(page, "clue")
        page.click("button:has-text('签收线索包')")
        assert "已签收。" in page.inner_text("body") and page.inner_text("#clue-state") == "已签收"
        assert "chengjian" in page.inner_text("#packet-P000001-urban")
        page.fill("textarea[name=text]", "已转梨园镇委员工作站研究，联系人电话13812345678")
        page.click("button:has-text('添加备注')")
        assert "备注已保存" in page.inner_text("body") and "138****5678" in page.inner_text("body")
        _shot(page, "clue-acknowledged")
        with gw.uow.read_session() as s:
            packet = s.scalar(select(Packet).where(Packet.packet_id == "P000001-urban"))
            assert packet is not None and packet.acknowledged_at is not None
            who = s.scalars(select(AuditEntry.username).where(AuditEntry.action == "acknowledge", AuditEntry.target == "P000001-urban")).all()
            assert who == ["chengjian"]
        status = _apart(call, server.url, CLIENT_KEY_ID, CLIENT_SECRET, "get", "/api/v1/reports/TZ-2026-W47").body
        assert any(p["packet_id"] == "P000001-urban" for p in status["packets"])

        # A POST without the CSRF token, with the session's cookie: refused, nothing recorded.
        refused = context.request.post(f"{base}/office/clues/{flooding.clue_id}/notes", form={"text": "伪造的备注"})
        assert refused.status == 403 and "安全校验码" in refused.text()
        page.goto(f"{base}/office/clues/{flooding.clue_id}")
        assert "伪造的备注" not in page.inner_text("body")
        page.click("button:has-text('退出登录')")
        assert page.url.startswith(f"{base}/office/login")
        context.close()


def test_repeated_wrong_passwords_are_throttled_in_chromium(tmp_path: Path, browser: Any) -> None:
    with running_gateway(tmp_path, workers=False) as (gw, server):
        add(gw, "chengjian", "committee", committee="urban")
        for _ in range(5):
            context, page = _log_in(browser, server.url, "chengjian", "wrong-password")
            assert "用户名或密码错误" in page.inner_text("body")
            context.close()
        context, page = _log_in(browser, server.url, "chengjian")  # the right password, after five wrong ones
        assert "登录失败次数过多" in page.inner_text("body") and page.url.startswith(f"{server.url}/office/login")
        _shot(page, "login-throttled")
        context.close()


def test_a_clue_forwarded_then_its_table1_filed_online_late_or_on_time_and_counted_in_table2_in_chromium(tmp_path: Path, browser: Any) -> None:
    """转交 → the workstation's view → 附表1 online (a refusal in Chinese, then on time; another late) → the .xlsx → Table 2 → 督办."""
    from datetime import timedelta

    from gateway.db.models import Consultation, utcnow
    from gateway.loop.forms_xlsx import read_table1
    from gateway.loop.table2 import monthly_summary
    from gateway.periods import SHANGHAI

    station = "梨园镇委员工作站"
    with running_gateway(tmp_path) as (gw, server):
        _apart(call, server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        _apart(wait_for_state, server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
        add(gw, "bangongshi", "office")
        add(gw, "chengjian", "committee", committee="urban")
        add(gw, "liyuan", "workstation", workstation=station)
        with gw.uow.read_session() as s:
            flooding = s.scalar(select(Clue).where(Clue.committee_id == "urban", Clue.title.contains("云景里")))
            kindergarten = s.scalar(select(Clue).where(Clue.committee_id == "education"))
        assert flooding is not None and kindergarten is not None
        base = server.url

        # 城建环保委 forwards its clue to 梨园镇委员工作站, with a note.
        context, page = _log_in(browser, base, "chengjian")
        page.goto(f"{base}/office/clues/{flooding.clue_id}")
        page.select_option("select[name=workstation]", station)
        page.fill("textarea[name=note]", "请结合云景里社区调研，两周内确定是否列入协商议题")
        page.click("button:has-text('转交')")
        assert "已转交。" in page.inner_text("body") and page.inner_text("#clue-state") == "已转交"
        assert station in page.inner_text("#forwarding")
        _shot(page, "clue-forwarded")
        context.close()

        # The workstation: the forwarded clue and nothing else; another committee's clue is refused.
        context, page = _log_in(browser, base, "liyuan")
        body = page.inner_text("body")
        assert flooding.title in body and kindergarten.title not in body and "共 1 条" in body
        _shot(page, "inbox-workstation")
        answer = page.goto(f"{base}/office/clues/{kindergarten.clue_id}")
        assert answer is not None and answer.status == 403
        page.goto(f"{base}/office/clues/{flooding.clue_id}")
        assert "两周内确定是否列入协商议题" in page.inner_text("body")
        page.click("text=据此线索填报协商议事活动开展情况表（附表1）")
        assert "协商议事活动开展情况表" in page.inner_text("h1")
        _shot(page, "table1-form")

        # First without choosing an outcome: refused, in Chinese, what was typed kept.
        today = utcnow().astimezone(SHANGHAI).date()
        page.fill("input[name=start]", today.isoformat())
        page.fill("input[name=end]", today.isoformat())
        page.fill("input[name=topic]", "云景里小区道路积水治理")
        page.fill("input[name=members]", "张委员、李委员")
        page.fill("textarea[name=item1_text]", "疏通云景里雨水管线")
        page.fill("textarea[name=item2_text]", "协调排水集团改造小区管网")
        page.check("input[name=item2_outcome][value=short_term]")
        page.click("button:has-text('报送情况表')")
        errors = page.inner_text("#form-errors")
        assert "情况表未能报送" in errors and "第1项：请在“现场解决”" in errors
        assert page.input_value("input[name=topic]") == "云景里小区道路积水治理"
        _shot(page, "table1-form-errors")
        page.check("input[name=item1_outcome][value=on_site]")
        page.select_option("select[name=item2_clues]", flooding.clue_id)
        page.click("button:has-text('报送情况表')")
        assert "情况表已报送" in page.inner_text("body") and page.inner_text("#timeliness") == "按时报送"
        assert page.inner_text("#total-on_site") == "1" and page.inner_text("#total-short_term") == "1"
        _shot(page, "table1-on-time")
        with page.expect_download() as download:
            page.click("text=下载电子表格（附表1，.xlsx）")
        filed = read_table1(Path(download.value.path()).read_bytes())
        assert filed.workstation == station and [i.text for i in filed.items] == ["疏通云景里雨水管线", "协调排水集团改造小区管网"]
        assert flooding.clue_id in filed.items[1].clue_ids

        # An activity a month ago, filed only now: late.
        long_ago = today - timedelta(days=30)
        page.goto(f"{base}/office/table1/new")
        page.fill("input[name=start]", long_ago.isoformat())
        page.fill("input[name=end]", long_ago.isoformat())
        page.fill("input[name=topic]", "梨园镇背街小巷停车")
        page.fill("textarea[name=item1_text]", "施划夜间停车位")
        page.check("input[name=item1_outcome][value=unresolved]")
        page.click("button:has-text('报送情况表')")
        assert page.inner_text("#timeliness") == "逾期报送"
        _shot(page, "table1-late")
        page.goto(f"{base}/office/table1/")
        listing = page.inner_text("body")
        assert "按时报送" in listing and "逾期报送" in listing
        _shot(page, "table1-list")

        # The clue is now in consultation (its item is under supervision); the 督办 board shows the two items.
        page.goto(f"{base}/office/clues/{flooding.clue_id}")
        assert page.inner_text("#clue-state") == "协商中"
        page.goto(f"{base}/office/supervision/")
        board = page.inner_text("body")
        assert "协调排水集团改造小区管网" in board and "施划夜间停车位" in board and "个工作日" in board
        _shot(page, "supervision")
        page.click("tr:has-text('协调排水集团改造小区管网') >> a")
        page.fill("input[name=assigned_unit]", "区水务局")
        page.fill("textarea[name=progress]", "管网改造已完成，经回访群众满意")
        page.select_option("select[name=state]", "done")
        page.fill("input[name=note]", "已现场核实")
        page.click("button:has-text('保存')")
        assert "已保存" in page.inner_text("body") and page.inner_text("#sv-state") == "已办结"
        assert "备注：已现场核实" in page.inner_text("#history")
        _shot(page, "supervision-entry")
        page.goto(f"{base}/office/clues/{flooding.clue_id}")
        assert page.inner_text("#clue-state") == "已协商"
        context.close()

        # Table 2 of the month counts the Table 1 filed on the page (the office's 月报 page shows the same sum).
        month = f"{today.year}-{today.month:02d}"
        with gw.uow.read_session() as s:
            rows = monthly_summary(s, month).rows
            late = s.scalar(select(Consultation).where(Consultation.topic == "梨园镇背街小巷停车"))
        assert {"workstation": station, "topic": "云景里小区道路积水治理", "items": 2, "on_site": 1, "short_term": 1, "unresolved": 0} in rows
        assert late is not None and late.late and late.source == "office"
        context, page = _log_in(browser, base, "bangongshi")
        answer = page.goto(f"{base}/office/months/{month}")
        assert answer is not None and answer.status == 200
        table2 = page.inner_text("body")
        assert station in table2 and "云景里小区道路积水治理" in table2
        _shot(page, "table2-with-online-table1")
        context.close()
