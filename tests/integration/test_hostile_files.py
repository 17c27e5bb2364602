"""Outside text in the office's spreadsheets stays text; stored text cannot stop a sweep; small files cannot stall the gateway."""
from __future__ import annotations

import io
import threading
import urllib.request
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from contracts.consultations import Consultation as Table1
from gateway.db.models import Notice
from gateway.delivery.notices import send_due
from gateway.loop.forms_xlsx import ITEM_ROWS, TICK, table1_template, table2_xlsx
from gateway.loop.supervision import sheet_rows, supervision_sheet
from gateway.loop.table1 import FileTable1, file_table1
from gateway.loop.table2 import monthly_summary
from gateway.periods import SHANGHAI
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.files import declared_huge_xlsx, far_cell_xlsx, rows, xlsx
from tests.helpers.gateway import running_gateway
from tests.helpers.reports import call, record, wait_for_state, weekly
from tests.helpers.smtp import SmtpServer

EVIL = '=HYPERLINK("http://evil.example","点击")'
HOSTILE = [EVIL, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def _formulas(content: bytes) -> list[tuple[str, str, Any]]:
    """Every formula cell in every sheet of a workbook: (sheet, cell, formula)."""
    workbook = load_workbook(io.BytesIO(content))
    return [(ws.title, c.coordinate, c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]


def _texts(content: bytes) -> set[str]:
    workbook = load_workbook(io.BytesIO(content))
    return {str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value is not None}


def test_formulas_from_a_report_reach_the_packet_spreadsheet_as_text(tmp_path: Path, smtp: SmtpServer) -> None:
    report = weekly("TZ-EVIL", [record(f"2611169000{i:03d}", street="梨园镇", content=f"{text} 小区门口道路积水严重，请处理（{i}）。",
                                       address=text, community=text) for i, text in enumerate(HOSTILE * 2)])
    with running_gateway(tmp_path, smtp_url=smtp.url) as (_, server):
        assert call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "push_report", report).status == 202
        wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-EVIL")
        messages = [m for _, m in smtp.inbox.wait_for(1)]
    sheets = [part.get_content() for m in messages for part in m.iter_attachments() if str(part.get_filename()).endswith(".xlsx")]
    assert sheets
    for content in sheets:
        assert _formulas(content) == []
    assert any(EVIL in text for content in sheets for text in _texts(content))  # kept, as text


def test_formulas_in_a_table1_reach_the_supervision_sheet_and_table2_as_text(tmp_path: Path) -> None:
    from gateway.bootstrap import bootstrap

    gw = bootstrap(data_dir=tmp_path)
    try:
        doc = Table1.model_validate({
            "workstation": "=梨园镇委员工作站", "period": {"start": "2026-11-20", "end": "2026-11-20"}, "topic": EVIL,
            "items": [{"text": text, "outcome": "short_term", "assigned_unit": text} for text in HOSTILE],
        })
        file_table1(gw.uow(), FileTable1("office", doc, "api"), routing=gw.routing, calendar=gw.calendar)
        with gw.uow.read_session() as session:
            sheet = supervision_sheet(sheet_rows(session, gw.routing, only_open=False))
            summary = monthly_summary(session, "2026-11")
        monthly = table2_xlsx(EVIL, summary.rows, summary.totals, summary.reconciliation.rows(), "@" + "2026年12月1日")
    finally:
        gw.close()
    assert _formulas(sheet) == [] and _formulas(monthly) == []
    assert {EVIL, "+1+cmd|' /C calc'!A0"} <= {t.lstrip("'") for t in _texts(sheet)}
    # The blank form's own totals are the gateway's formulas, and the only ones.
    total = 7 + ITEM_ROWS
    assert sorted(f for _, _, f in _formulas(table1_template())) == [f'=COUNTIF({c}7:{c}{total - 1},"{TICK}")' for c in "CDE"]


def test_a_line_break_in_a_table1_field_that_reaches_a_header_is_refused(tmp_path: Path) -> None:
    with running_gateway(tmp_path, client_keys=f"{CLIENT_KEY_ID}:{CLIENT_SECRET}") as (gw, server):
        gw.config.clients["office-desk"] = type(gw.config.clients[CLIENT_KEY_ID])(key_id="office-desk", secrets=["office-secret-0123456789"], role="office")
        table1 = {"workstation": "梨园镇委员工作站\r\nBcc: all@example.com", "period": {"start": "2026-11-20", "end": "2026-11-20"},
                  "topic": "积水", "items": [{"text": "多行\n的事项文字可以", "outcome": "on_site"}]}
        answer = call(server.url, "office-desk", "office-secret-0123456789", "send_json", "POST", "/api/v1/consultations", table1)
        assert answer.status == 422 and answer.body["errors"][0]["loc"] == ["workstation"], answer.body
        table1["workstation"] = "梨园镇委员工作站"  # a line break inside an item's text is fine: it goes into bodies, not headers
        assert call(server.url, "office-desk", "office-secret-0123456789", "send_json", "POST", "/api/v1/consultations", table1).status == 201


def test_a_notice_that_cannot_be_sent_does_not_stop_the_others(tmp_path: Path, smtp: SmtpServer) -> None:
    from gateway.bootstrap import bootstrap
    from gateway.delivery.notices import queue_notice

    gw = bootstrap(data_dir=tmp_path, smtp_url=smtp.url)
    try:
        with gw.mailer.sessions() as session:
            queue_notice(gw.mailer, session, key="urge:bad", kind="urge", recipients=["a@zx.example"], subject="坏的", text="x")
            queue_notice(gw.mailer, session, key="urge:good", kind="urge", recipients=["a@zx.example"], subject="好的", text="y")
            bad = session.scalars(select(Notice).where(Notice.key == "urge:bad")).one()
            bad.recipients = None  # a stored row no code path writes: whatever it does, the sweep goes on
            session.commit()
        assert send_due(gw.mailer) == 1
        assert [str(m["Subject"]) for _, m in smtp.inbox.wait_for(1)] == ["好的"]
        assert 'gateway_sweep_failures_total{task="notice"} 1.0' in gw.metrics.exposition().decode()
    finally:
        gw.close()


def test_eight_hostile_spreadsheets_at_once_leave_healthz_answering(tmp_path: Path) -> None:
    files = [declared_huge_xlsx(rows(2), empty_rows=20_000), far_cell_xlsx(xlsx(rows(2)))] * 4
    answers: dict[int, Any] = {}
    health: list[int] = []
    with running_gateway(tmp_path, workers=False) as (_, server):
        def upload(n: int, content: bytes) -> None:
            fields = {"kind": "weekly", "report_id": f"HOSTILE-{n}", "period_start": "2026-11-16", "period_end": "2026-11-22"}
            answers[n] = call(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, f"w{n}.xlsx", content)

        threads = [threading.Thread(target=upload, args=(n, content)) for n, content in enumerate(files)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            with urllib.request.urlopen(server.url + "/healthz", timeout=30) as response:  # a bound on waiting, not a figure
                health.append(response.status)
        for t in threads:
            t.join()
    assert health and set(health) == {200}
    for n, answer in sorted(answers.items()):
        if n % 2 == 0:  # 16,384 declared columns: read to its two real rows, the padding ignored
            assert answer.status == 202 and answer.body["records"] == 2, answer.body
        else:  # the far cell is a row of its own, and not a work order: refused, and said where
            assert answer.status == 422 and any(e["loc"][:2] == ["row", 1048576] for e in answer.body["errors"]), answer.body


def test_markup_in_a_stored_text_is_printed_as_it_is(tmp_path: Path) -> None:
    import subprocess
    import sys

    from gateway.bootstrap import bootstrap
    from ops.gwenv import gateway_env

    gw = bootstrap(data_dir=tmp_path)
    try:
        doc = Table1.model_validate({
            "workstation": "梨园镇委员工作站", "period": {"start": "2026-11-20", "end": "2026-11-20"}, "topic": "积水[/red]",
            "items": [{"text": "[link=http://evil.example]点这里[/link]", "outcome": "short_term", "assigned_unit": "[bold]区水务局"}],
        })
        file_table1(gw.uow(), FileTable1("office", doc, "api"), routing=gw.routing, calendar=gw.calendar)
    finally:
        gw.close()
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "supervision", "list"], capture_output=True, text=True, timeout=120,
                            env={**gateway_env(data_dir=str(tmp_path)), "COLUMNS": "300"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "积水[/red]" in result.stdout and "[link=http://evil.example]点这里[/link]" in result.stdout
