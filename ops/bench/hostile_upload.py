#!/usr/bin/env python3
"""Hostile spreadsheets against a running gateway: how long the answer takes and what the process holds after.

Starts `gateway run` (embedded default) in a process of its own and uploads, one
at a time: a plain 3-row workbook (the baseline, measured in the same run), a
small workbook whose sheet declares A1:XFD50000, and a small 附表1 with one cell at
A1048576; then eight hostile ones at once while polling /healthz. Prints each
answer's time as a ratio of the baseline's, and the gateway's resident memory
(VmRSS, VmHWM from /proc) after each. Timings are for this table, never for a test.

    .venv/bin/python ops/bench/hostile_upload.py
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ops.gwenv import gateway_env  # noqa: E402
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET  # noqa: E402
from tests.helpers.files import rewrite_sheet, rows, xlsx  # noqa: E402
from tests.helpers.reports import call  # noqa: E402
from tests.helpers.smtp import free_port  # noqa: E402


OFFICE = ("office-desk", "office-secret-0123456789")


def _declared(content: bytes, ref: str, extra: str = "") -> bytes:
    """The workbook with its sheet's declared dimension set to `ref` (and `extra` rows appended), as a hostile sender would edit it."""
    return rewrite_sheet(content, lambda xml: re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
                         .replace("</sheetData>", extra + "</sheetData>"))


def _status(pid: int) -> tuple[float, float]:
    fields = {line.split(":")[0]: line.split()[1] for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(("VmRSS", "VmHWM"))}
    return int(fields["VmRSS"]) / 1024, int(fields["VmHWM"]) / 1024


def main() -> int:
    from gateway.loop.forms_xlsx import table1_template

    console = Console(width=140)
    plain = xlsx(rows(3), title_rows=False, blank_rows=False)
    declared = _declared(plain, "A1:XFD50000")
    far = _declared(table1_template(), "A1:F1048576", '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "gateway.yaml"
        config.write_text(f"clients:\n  - {{key_id: {OFFICE[0]}, secrets: [{OFFICE[1]}], role: office}}\n", encoding="utf-8")
        env = {**gateway_env(data_dir=tmp, config=str(config), client_keys=f"{CLIENT_KEY_ID}:{CLIENT_SECRET}"), "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run", "--port", str(port)], env=env, cwd=tmp,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    urllib.request.urlopen(url + "/healthz", timeout=2)
                    break
                except OSError:
                    time.sleep(0.1)
            table = Table(title="hostile uploads vs a plain one (same run)")
            for col in ("file", "bytes", "answer", "seconds", "÷ plain", "RSS MB after", "peak MB"):
                table.add_column(col)
            base = None
            warm = {"kind": "weekly", "report_id": "WARM", "period_start": "2026-11-16", "period_end": "2026-11-22"}
            call(url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", warm, "w.xlsx", plain)  # the first upload loads openpyxl: not counted
            for n, (name, content, path) in enumerate([("plain 3 rows", plain, "/api/v1/reports/upload"),
                                                       ("declares A1:XFD50000", declared, "/api/v1/reports/upload"),
                                                       ("附表1, a cell at A1048576", far, "/api/v1/consultations/upload")]):
                started = time.perf_counter()
                if path.endswith("reports/upload"):
                    fields = {"kind": "weekly", "report_id": f"B-{n}", "period_start": "2026-11-16", "period_end": "2026-11-22"}
                    answer = call(url, CLIENT_KEY_ID, CLIENT_SECRET, "upload", fields, "w.xlsx", content)
                else:
                    answer = call(url, *OFFICE, "upload_file", path, {}, "附表1.xlsx", content)
                took = time.perf_counter() - started
                base = base or took
                rss, peak = _status(process.pid)
                table.add_row(name, f"{len(content):,}", str(answer.status), f"{took:.2f}", f"{took / base:.1f}×", f"{rss:.0f}", f"{peak:.0f}")
            health: list[float] = []
            threads = [threading.Thread(target=call, args=(url, CLIENT_KEY_ID, CLIENT_SECRET, "upload",
                                                           {"kind": "weekly", "report_id": f"H-{i}", "period_start": "2026-11-16", "period_end": "2026-11-22"},
                                                           "w.xlsx", declared)) for i in range(8)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                t0 = time.perf_counter()
                urllib.request.urlopen(url + "/healthz", timeout=30)
                health.append(time.perf_counter() - t0)
            rss, peak = _status(process.pid)
            table.add_row("8 × declares A1:XFD50000 at once", f"{len(declared):,}", "all answered", f"{time.perf_counter() - started:.2f}",
                          f"/healthz max {max(health):.2f} s over {len(health)} polls", f"{rss:.0f}", f"{peak:.0f}")
            console.print(table)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
