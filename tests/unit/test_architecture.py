"""The layers hold: import-linter's contracts (pyproject.toml, docs/architecture.md) over the whole code."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 kept, 0 broken" in result.stdout, result.stdout[-2000:]


def test_a_broken_layer_is_caught(tmp_path: Path) -> None:
    """The check can fail: a copy of the code where the core imports an adapter breaks the contract."""
    import shutil

    for name in ("gateway", "connectors", "workers", "contracts"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    queues = tmp_path / "gateway" / "queues.py"
    queues.write_text(queues.read_text() + "\nimport connectors.mail  # noqa: E402,F401\n")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)})
    assert result.returncode != 0 and "gateway.queues -> connectors.mail" in result.stdout, result.stdout[-3000:]
