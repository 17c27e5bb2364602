"""The drop folder and `gateway import`: each file once, archived or quarantined with the reason."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.bootstrap import bootstrap
from gateway.intake.drop_folder import DropFolder
from tests.helpers import CLIENT_KEY_ID, CLIENT_SECRET
from tests.helpers.files import rows, xlsx
from tests.helpers.gateway import running_gateway
from tests.helpers.processes import gateway_env
from tests.helpers.reports import wait_for_state

GOOD_NAME = "周报_TZ-2026-W47_2026-11-16_2026-11-22.xlsx"


def _age(path: Path, seconds: float = 5) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_files_are_imported_once_archived_or_quarantined(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    gateway = bootstrap(data_dir=tmp_path / "data")
    folder = DropFolder(gateway.uow, gateway.metrics, drop, client_id=gateway.settings.drop_client_id, settle_s=1.0)
    try:
        content = xlsx(rows(3))
        (drop / GOOD_NAME).write_bytes(content)
        (drop / "月报_TZ-2026-M11_2026-11-01_2026-11-30.xlsx").write_bytes(content)  # same content, other name
        (drop / "周报_TZ-2026-W48_2026-11-23_2026-11-29.xlsx").write_bytes(b"PK not really a workbook")
        (drop / "工单明细.xlsx").write_bytes(xlsx(rows(2)))  # no report id in the name
        (drop / "copying.xlsx.part").write_bytes(b"half")
        for path in drop.iterdir():
            _age(path)
        assert folder.scan() == []  # first look: only remembered
        outcomes = dict(folder.scan())
        assert outcomes == {
            GOOD_NAME: "imported",
            "月报_TZ-2026-M11_2026-11-01_2026-11-30.xlsx": "already imported",
            "周报_TZ-2026-W48_2026-11-23_2026-11-29.xlsx": "quarantined",
            "工单明细.xlsx": "quarantined",
        }
        assert sorted(p.name for p in (drop / "archive").iterdir()) == sorted([GOOD_NAME, "月报_TZ-2026-M11_2026-11-01_2026-11-30.xlsx"])
        reason = (drop / "quarantine" / "周报_TZ-2026-W48_2026-11-23_2026-11-29.xlsx.reason.txt").read_text(encoding="utf-8")
        assert "未导入" in reason and "not an .xlsx workbook" in reason
        naming = (drop / "quarantine" / "工单明细.xlsx.reason.txt").read_text(encoding="utf-8")
        assert "周报_TZ-2026-W47_2026-11-16_2026-11-22.xlsx" in naming
        assert (drop / "copying.xlsx.part").exists()
        (drop / GOOD_NAME).write_bytes(content)  # dropped again later
        _age(drop / GOOD_NAME)
        folder.scan()
        assert folder.scan() == [(GOOD_NAME, "already imported")]
    finally:
        gateway.close()


def test_a_file_still_being_written_is_left_alone(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    gateway = bootstrap(data_dir=tmp_path / "data")
    folder = DropFolder(gateway.uow, gateway.metrics, drop, client_id=gateway.settings.drop_client_id, settle_s=1.0)
    try:
        target = drop / GOOD_NAME
        content = xlsx(rows(3))
        with target.open("wb") as handle:
            handle.write(content[: len(content) // 2])
            handle.flush()
            _age(target)
            assert folder.scan() == []
            handle.write(content[len(content) // 2:])  # still growing between the two looks
        assert folder.scan() == []
        assert target.exists()
        _age(target)
        assert folder.scan() == []  # finished now, but looked at only once since
        assert folder.scan() == [(GOOD_NAME, "imported")]
    finally:
        gateway.close()


def test_the_running_gateway_watches_its_drop_folder(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    with running_gateway(tmp_path, drop_dir=drop, drop_poll_s=0.2, drop_client_id=CLIENT_KEY_ID) as (_, server):
        (drop / "incoming.tmp").write_bytes(xlsx(rows(4)))
        os.replace(drop / "incoming.tmp", drop / GOOD_NAME)  # how a careful sender drops a file
        _age(drop / GOOD_NAME)
        status = wait_for_state(server.url, CLIENT_KEY_ID, CLIENT_SECRET, "TZ-2026-W47")
    assert status["source"] == "drop" and status["records"]["routed"] == 4
    assert (drop / "archive" / GOOD_NAME).exists()


def test_gateway_import_processes_the_file_and_mails_the_packets(tmp_path: Path) -> None:
    source = tmp_path / GOOD_NAME
    source.write_bytes(xlsx(rows(4)))
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "import", str(source)], cwd=tmp_path, env=gateway_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "report TZ-2026-W47: 4 work order(s) stored" in result.stderr
    outbox = tmp_path / "gateway-data" / "outbox"
    assert sorted(p.name for p in outbox.iterdir()) == ["P000001-urban-r1.eml"]
    again = subprocess.run([sys.executable, "-m", "gateway.cli", "import", str(source)], cwd=tmp_path, env=gateway_env(),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "was imported before" in again.stderr


def test_gateway_import_names_the_bad_row(tmp_path: Path) -> None:
    data = rows(3)
    data[1][0] = "bad/ticket"  # a / cannot be in a ticket number
    source = tmp_path / "bad.xlsx"
    source.write_bytes(xlsx(data, title_rows=False, blank_rows=False))
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "import", str(source), "--kind", "express", "--report-id", "X1"],
                            cwd=tmp_path, env=gateway_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "第3行 ticket_no" in result.stderr


def test_a_large_file_is_stored_a_chunk_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    import gateway.intake.receive
    from sqlalchemy import select

    from gateway.db.models import Report, ReportChunk
    from gateway.errors import ValidationFailed
    from gateway.intake.file_import import FileMeta, import_file

    monkeypatch.setattr(gateway.intake.receive, "CHUNK_SIZE", 3)
    lines = [{"ticket_no": f"L{i}", "received_at": "2026-11-16T09:00:00", "category": "民政", "content": f"养老服务第{i}件"} for i in range(7)]
    lines.insert(4, {"ticket_no": "bad/ticket", "received_at": "2026-11-16T09:00:00", "content": "x"})
    content = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    meta = FileMeta("monthly", "M11", "2026-11-01", "2026-11-30")
    gw = bootstrap(data_dir=tmp_path)
    gw.uow.dispatch = None
    try:
        with pytest.raises(ValidationFailed) as refused:
            import_file(gw.uow, content, "m11.jsonl", meta, client_id="c", source="import")
        assert refused.value.errors and refused.value.errors[0]["loc"] == ["row", 5, "ticket_no"]
        outcome = import_file(gw.uow, content, "m11.jsonl", meta, client_id="c", source="import", partial=True)
        assert outcome.received is not None and outcome.received.receipt.records == 7
        assert [r.row for r in outcome.received.receipt.rejected] == [5]
        with gw.uow.session_factory() as session:
            assert session.scalar(select(Report.chunk_count)) == 3
            assert session.scalars(select(ReportChunk.record_count).order_by(ReportChunk.seq)).all() == [3, 3, 1]
    finally:
        gw.close()
