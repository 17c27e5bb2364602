"""The drop folder: report files put there are imported once, then archived, or quarantined with the reason.

A file is picked up only after it has looked the same (size and modification
time) on two scans at least `settle_s` apart, so a file still being copied is
left alone; names starting with "." or "~$" and .tmp/.part files are ignored.
"""
from __future__ import annotations

import logging
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.errors import GatewayError
from gateway.intake.file_import import NAMING_HELP, import_file, meta_from_name
from gateway.intake.report_files import BUILTIN, ColumnNames
from gateway.metrics import Metrics
from gateway.periods import SHANGHAI
from gateway.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".swp")


def _where(loc: list[Any]) -> str:
    if len(loc) >= 2 and loc[0] == "row":
        return f"第{loc[1]}行 " + ".".join(str(p) for p in loc[2:])
    if len(loc) >= 2 and loc[0] == "records":
        return f"第{int(loc[1]) + 1}条记录 " + ".".join(str(p) for p in loc[2:])
    return ".".join(str(p) for p in loc) or "文件"


def reason_text(filename: str, exc: GatewayError) -> str:
    lines = [
        f"文件：{filename}",
        f"时间：{datetime.now(SHANGHAI):%Y年%m月%d日 %H:%M}（北京时间）",
        f"结果：未导入。原因：{exc.detail}",
    ]
    if exc.errors:
        lines.append("具体问题：")
        lines.extend(f"  {_where(list(e.get('loc', [])))}：{e.get('msg')}" for e in exc.errors[:200])
        if len(exc.errors) > 200:
            lines.append(f"  ……另有{len(exc.errors) - 200}处问题")
    lines.append(f"处理办法：改正后将文件重新放入投递文件夹。文件命名：{NAMING_HELP}")
    return "\n".join(lines) + "\n"


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{datetime.now():%Y%m%d%H%M%S%f}{path.suffix}"
    shutil.move(str(path), target)
    return target


class DropFolder:
    def __init__(self, uow: UnitOfWorkFactory, metrics: Metrics, folder: Path, *, client_id: str, settle_s: float = 1.0,
                 columns: ColumnNames = BUILTIN) -> None:
        self.uow, self.metrics, self.client_id, self.columns = uow, metrics, client_id, columns
        self.folder = folder
        self.settle_s = settle_s
        self._seen: dict[str, tuple[int, int]] = {}

    def _candidates(self) -> list[Path]:
        self.folder.mkdir(parents=True, exist_ok=True)
        return [
            p for p in sorted(self.folder.iterdir())
            if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.lower().endswith(IGNORED_SUFFIXES)
        ]

    def scan(self) -> list[tuple[str, str]]:
        """Import what is ready; (file name, outcome) for each file handled this time."""
        handled = []
        now = time.time()
        for path in self._candidates():
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime_ns)
            if self._seen.get(path.name) != signature or now - stat.st_mtime < self.settle_s:
                self._seen[path.name] = signature
                continue
            self._seen.pop(path.name, None)
            handled.append((path.name, self._take(path)))
        return handled

    def _take(self, path: Path) -> str:
        metrics = self.metrics
        try:
            outcome = import_file(self.uow, path.read_bytes(), path.name, meta_from_name(path), client_id=self.client_id, source="drop",
                                  columns=self.columns)
        except GatewayError as exc:
            target = _move(path, self.folder / "quarantine")
            target.with_name(target.name + ".reason.txt").write_text(reason_text(path.name, exc), encoding="utf-8")
            metrics.files.labels("quarantined").inc()
            log.warning("drop folder: %s quarantined: %s", path.name, exc.detail)
            return "quarantined"
        except Exception as exc:  # an unexpected failure must not leave the file to be retried forever
            log.exception("drop folder: %s failed unexpectedly", path.name)
            target = _move(path, self.folder / "quarantine")
            target.with_name(target.name + ".reason.txt").write_text(
                f"文件：{path.name}\n结果：未导入，处理时发生内部错误（{type(exc).__name__}），已记录日志，请联系运维人员。\n", encoding="utf-8")
            metrics.files.labels("quarantined").inc()
            return "quarantined"
        _move(path, self.folder / "archive")
        if outcome.received is None:
            metrics.files.labels("already_imported").inc()
            log.info("drop folder: %s was imported before (same content); archived", path.name)
            return "already imported"
        metrics.files.labels("imported").inc()
        log.info("drop folder: %s imported as report %s", path.name, outcome.received.receipt.report_id)
        return "imported" if outcome.received.created else "duplicate report"
