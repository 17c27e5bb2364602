"""The packet's HTML body as a mail client shows it: rendered by headless Chromium, screenshot kept."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, wait_for_state, weekly
from tests.helpers.services import required
from tests.helpers.smtp import SmtpServer

ARTIFACTS = Path(os.environ.get("GATEWAY_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "test-artifacts"))


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        message = "headless Chromium is not installed; install it with: apt-get install -y chromium fonts-noto-cjk"
        if required():
            pytest.fail(message + " (GATEWAY_REQUIRE_SERVICES=1 makes this a failure)")
        pytest.skip(message)
    return found


def test_packet_html_renders_its_clue_table_in_chromium(tmp_path: Path, smtp: SmtpServer) -> None:
    chromium = _chromium()
    with running_gateway(tmp_path, smtp_url=smtp.url) as (_, server):
        call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", weekly())
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    message = next(m for _, m in smtp.inbox.wait_for(3) if "城建环保委" in str(m["Subject"]))
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    page = tmp_path / "packet.html"
    page.write_text(html, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "packet-urban.png"
    screenshot.unlink(missing_ok=True)
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=900,1400"]
    # No network at all: the body must not need anything from outside to render.
    flags.append("--host-resolver-rules=MAP * ~NOTFOUND")
    subprocess.run([*flags, f"--screenshot={screenshot}", page.as_uri()], check=True, capture_output=True, timeout=120)
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], check=True, capture_output=True, timeout=120).stdout.decode()

    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 10_000
    # The summary table, as laid out by the browser: header cells and the clue's row.
    assert "<th" in dom and "序号" in dom and "线索" in dom and "工单" in dom
    # the flooding clue, titled 地点：事项等问题
    assert re.search(r"云景里：[^<（]*等问题", dom) and "社情民意信息线索" in dom and "2611160000003" in dom
    assert "确认收到本线索包" in dom
