"""The real message board (../shared/data/board-dev.jsonl) and its hand-checked hot issues.

`load_board()` reads the 4,143 messages of the TipDM 2020 problem C message board (attachment 3:
message_id, title, time, text, likes, dislikes) from the project's shared/ folder beside the
checkout, or from the folder GATEWAY_SHARED_DATA names; the texts are never copied into the
repository. `hot_issues()` reads tests/data/board_hot_issues.yaml, rules written and checked by
hand (see tests/data/README.md), and `hot_issue_labels(messages)` applies them: a message belongs
to an issue iff its title + "\\n" + text matches the issue's `place` regex and its `matter`
regex, does not match its `exclude` regex and is not in its `exclude_ids` -- or it is in its
`include_ids`. A message that two issues select is an error in the rules and raises.

GATEWAY_SHARED_DATA is also read when this module is imported, because tests/conftest.py removes
every GATEWAY_* variable before each test runs.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ENV = "GATEWAY_SHARED_DATA"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO.parent / "shared" / "data"
BOARD_FILE = "board-dev.jsonl"
ISSUES_FILE = REPO / "tests" / "data" / "board_hot_issues.yaml"
_ENV_AT_IMPORT = os.environ.get(ENV)

REQUIRED = ("id", "title", "place", "matter", "expected_count")
OPTIONAL = ("exclude", "include_ids", "exclude_ids", "read", "notes")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class RulesError(ValueError):
    """The hot-issue rules are inconsistent (a message in two issues, a malformed issue)."""


def board_path() -> Path:
    """Where board-dev.jsonl is expected: in $GATEWAY_SHARED_DATA (now or at import) or ../shared/data beside the checkout."""
    value = os.environ.get(ENV) or _ENV_AT_IMPORT
    if not value:
        return DEFAULT_DIR / BOARD_FILE
    path = Path(value).expanduser()
    return path if path.suffix == ".jsonl" else path / BOARD_FILE


def load_board(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The board's messages, in file order; FileNotFoundError saying where the file should be when it is absent."""
    where = Path(path).expanduser() if path is not None else board_path()
    if not where.is_file():
        raise FileNotFoundError(
            f"the real message board is not at {where}: put board-dev.jsonl (see SOURCE.md of the "
            f"project's shared data) in {DEFAULT_DIR} beside the checkout, or set {ENV} to the folder "
            "that holds it. It is not shipped in the repository."
        )
    messages = []
    with where.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}:{number}: not a JSON line ({exc.msg})") from None
            message["message_id"] = str(message["message_id"])
            messages.append(message)
    return messages


def _ids(issue: dict[str, Any], key: str) -> frozenset[str]:
    value = issue.get(key) or []
    if not isinstance(value, list):
        raise RulesError(f"issue {issue.get('id')!r}: {key} must be a list of message ids")
    return frozenset(str(item) for item in value)


def _checked(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(issues, list) or not issues:
        raise RulesError("the hot-issue file must hold a non-empty list of issues")
    seen: set[str] = set()
    for issue in issues:
        if not isinstance(issue, dict):
            raise RulesError(f"an issue must be a mapping, not {issue!r}")
        missing = [key for key in REQUIRED if key not in issue]
        unknown = sorted(set(issue) - set(REQUIRED) - set(OPTIONAL))
        name = issue.get("id")
        if missing or unknown:
            raise RulesError(f"issue {name!r}: missing {missing}, unknown {unknown}")
        if not isinstance(name, str) or not _SLUG.match(name):
            raise RulesError(f"issue id {name!r} is not a slug (lowercase words joined by '-')")
        if name in seen:
            raise RulesError(f"issue id {name!r} appears twice")
        seen.add(name)
        for key in ("place", "matter", "exclude"):
            if key in issue:
                try:
                    re.compile(issue[key])
                except (re.error, TypeError) as exc:
                    raise RulesError(f"issue {name!r}: {key} is not a regex: {exc}") from None
        if not isinstance(issue["expected_count"], int) or isinstance(issue["expected_count"], bool):
            raise RulesError(f"issue {name!r}: expected_count must be an integer")
        both = _ids(issue, "include_ids") & _ids(issue, "exclude_ids")
        if both:
            raise RulesError(f"issue {name!r}: ids both included and excluded: {sorted(both)}")
    return issues


@lru_cache(maxsize=4)
def _load_issues(path: Path) -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8") as handle:
        return tuple(_checked(yaml.safe_load(handle)))


def hot_issues(path: str | Path | None = None) -> list[dict[str, Any]]:
    """The hand-checked hot issues (tests/data/board_hot_issues.yaml), validated; a fresh list of fresh dicts."""
    where = Path(path) if path is not None else ISSUES_FILE
    return [dict(issue) for issue in _load_issues(where.resolve())]


def issue_members(issue: dict[str, Any], messages: Iterable[dict[str, Any]]) -> list[str]:
    """The ids of the messages one issue's rules select, in the messages' order."""
    place, matter = re.compile(issue["place"]), re.compile(issue["matter"])
    exclude = re.compile(issue["exclude"]) if issue.get("exclude") else None
    include_ids, exclude_ids = _ids(issue, "include_ids"), _ids(issue, "exclude_ids")
    members = []
    for message in messages:
        message_id = str(message["message_id"])
        if message_id in include_ids:
            members.append(message_id)
            continue
        if message_id in exclude_ids:
            continue
        body = f"{message.get('title') or ''}\n{message.get('text') or ''}"
        if place.search(body) and matter.search(body) and not (exclude and exclude.search(body)):
            members.append(message_id)
    return members


def hot_issue_labels(messages: Iterable[dict[str, Any]], issues: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """message_id -> issue id for every message some issue selects; RulesError when two issues select one message."""
    messages = list(messages)
    issues = _checked(issues) if issues is not None else hot_issues()
    labels: dict[str, str] = {}
    for issue in issues:
        for message_id in issue_members(issue, messages):
            other = labels.setdefault(message_id, issue["id"])
            if other != issue["id"]:
                raise RulesError(
                    f"message {message_id} is selected by two hot issues, {other!r} and {issue['id']!r}: "
                    "tighten one issue's rules (exclude / exclude_ids)"
                )
    return labels
