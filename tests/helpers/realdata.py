"""Where the real data is (../shared/data beside the checkout), and a clear failure when it is not there.

The real messages are not shipped in the package (their SOURCE.md says so), so
the quality tests read them from the project's shared/ folder: by default
`<checkout>/../shared/data`, or wherever GATEWAY_SHARED_DATA points. When the
folder or one of its files is missing the tests FAIL with a message saying
where the data is expected; they never skip, so a CI run without the data is
red, not silently green.

GATEWAY_SHARED_DATA is read when this module is imported (at collection):
tests/conftest.py removes every GATEWAY_* variable before each test runs.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

ENV = "GATEWAY_SHARED_DATA"
REPO = Path(__file__).resolve().parents[2]
DEFAULT = REPO.parent / "shared" / "data"
FILES = ("messages-dev.jsonl", "board-dev.jsonl", "taxonomy.csv")
_ENV_AT_IMPORT = os.environ.get(ENV)


def data_dir() -> Path:
    """GATEWAY_SHARED_DATA if set (now or when this module was imported), else ../shared/data beside the checkout."""
    value = os.environ.get(ENV) or _ENV_AT_IMPORT
    return Path(value).expanduser().resolve() if value else DEFAULT.resolve()


def missing(path: Path | None = None, files: tuple[str, ...] = FILES) -> str | None:
    """Why the real data cannot be used (the message a test fails with), or None when it is all there."""
    path = path if path is not None else data_dir()
    absent = [name for name in files if not (path / name).is_file()]
    if not absent:
        return None
    where = "the folder does not exist" if not path.is_dir() else "missing: " + ", ".join(absent)
    return (
        f"real data expected at {path} (the project's shared/ folder beside the checkout: "
        f"{DEFAULT.parent.parent}/shared/data); {where}. Set {ENV}=/path/to/shared/data to use another place. "
        "The quality tests fail rather than skip without it (see tests/quality/test_real_data.py)."
    )


def require(path: Path | None = None, files: tuple[str, ...] = FILES) -> Path:
    """The data folder; a test failure (pytest.fail, never a skip) saying where it should be when it is absent."""
    path = path if path is not None else data_dir()
    problem = missing(path, files)
    if problem:
        import pytest

        pytest.fail(problem, pytrace=False)
    return path


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@lru_cache(maxsize=4)
def messages(path: Path | None = None) -> list[dict[str, Any]]:
    """The 298 labelled messages (message_id, user, title, time, text, category_l1), in file order."""
    return _jsonl((path or data_dir()) / "messages-dev.jsonl")


@lru_cache(maxsize=4)
def board(path: Path | None = None) -> list[dict[str, Any]]:
    """The 4,143 message-board messages (message_id, title, time, text, likes, dislikes), in file order."""
    return _jsonl((path or data_dir()) / "board-dev.jsonl")
