"""The hand-checked hot-issue labels of the real message board are consistent.

The rules live in tests/data/board_hot_issues.yaml (how they were built and checked:
tests/data/README.md); the messages in ../shared/data/board-dev.jsonl. Without the data these
tests fail, saying where the file should be: they never skip.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.helpers.board import ISSUES_FILE, RulesError, hot_issue_labels, hot_issues, issue_members, load_board

MIN_MESSAGES = 5


@pytest.fixture(scope="module")
def board() -> list[dict[str, Any]]:
    # Module scope: set up before conftest's per-test removal of GATEWAY_* variables.
    try:
        return load_board()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="module")
def labels(board: list[dict[str, Any]]) -> dict[str, str]:
    return hot_issue_labels(board)


def test_the_board_is_the_expected_data_set(board: list[dict[str, Any]]) -> None:
    ids = [message["message_id"] for message in board]
    assert len(ids) == 4143 and len(set(ids)) == len(ids)


def test_issue_file_is_well_formed() -> None:
    issues = hot_issues()
    assert len(issues) >= 15
    for issue in issues:
        assert issue["title"].strip() and issue["notes"].strip(), issue["id"]
        assert issue["read"]["selected"] == issue["expected_count"], f"{issue['id']}: every selected message was read"


def test_no_message_is_in_two_issues(labels: dict[str, str]) -> None:
    # hot_issue_labels raises on a message two issues select; this also checks the count of labelled messages.
    assert len(labels) == sum(issue["expected_count"] for issue in hot_issues())


def test_every_issue_has_at_least_five_messages(labels: dict[str, str]) -> None:
    counts = Counter(labels.values())
    small = {issue["id"]: counts[issue["id"]] for issue in hot_issues() if counts[issue["id"]] < MIN_MESSAGES}
    assert not small, f"issues with fewer than {MIN_MESSAGES} messages: {small}"


def test_every_issue_selects_the_recorded_count(labels: dict[str, str]) -> None:
    counts = Counter(labels.values())
    wrong = {issue["id"]: (counts[issue["id"]], issue["expected_count"]) for issue in hot_issues()
             if counts[issue["id"]] != issue["expected_count"]}
    assert not wrong, f"issue: (selected now, expected_count recorded when checked by hand): {wrong}"


def test_hand_listed_ids_are_messages_of_the_board(board: list[dict[str, Any]]) -> None:
    known = {message["message_id"] for message in board}
    for issue in hot_issues():
        listed = [str(i) for i in (issue.get("include_ids") or []) + (issue.get("exclude_ids") or [])]
        assert set(listed) <= known, f"{issue['id']}: unknown ids {sorted(set(listed) - known)}"


def test_hand_excluded_ids_would_otherwise_be_selected(board: list[dict[str, Any]]) -> None:
    # An exclude_ids entry that the rules no longer select is stale; an include_ids entry they select is redundant.
    for issue in hot_issues():
        bare = dict(issue, include_ids=[], exclude_ids=[])
        selected = set(issue_members(bare, board))
        assert {str(i) for i in issue.get("exclude_ids") or []} <= selected, issue["id"]
        assert not {str(i) for i in issue.get("include_ids") or []} & selected, issue["id"]


def test_the_issue_file_holds_no_message_text(board: list[dict[str, Any]]) -> None:
    # Rules and ids only: the data may not be shipped. No message title (or opening of a text) is copied in.
    content = ISSUES_FILE.read_text(encoding="utf-8")
    copied = [message["message_id"] for message in board
              if (len(message["title"]) >= 12 and message["title"] in content)
              or (len(message["text"]) >= 30 and message["text"][:30] in content)]
    assert not copied, f"texts of messages {copied[:10]} appear in {ISSUES_FILE.name}"


def test_a_message_two_issues_select_is_an_error() -> None:
    issues = [
        {"id": "one", "title": "一", "place": "甲小区", "matter": "噪音", "expected_count": 1},
        {"id": "two", "title": "二", "place": "甲小区", "matter": "扰民", "expected_count": 1},
    ]
    only_one = [{"message_id": "1", "title": "甲小区噪音", "text": "夜间施工"}]
    assert hot_issue_labels(only_one, issues) == {"1": "one"}
    both = [{"message_id": "2", "title": "甲小区噪音扰民", "text": ""}]
    with pytest.raises(RulesError, match="two hot issues"):
        hot_issue_labels(both, issues)


def test_include_and_exclude_ids_override_the_patterns() -> None:
    issue = {"id": "one", "title": "一", "place": "甲小区", "matter": "噪音", "exclude": "幼儿园",
             "include_ids": ["3"], "exclude_ids": ["2"], "expected_count": 2}
    messages = [
        {"message_id": "1", "title": "甲小区噪音", "text": ""},
        {"message_id": "2", "title": "甲小区噪音", "text": ""},
        {"message_id": "3", "title": "乙小区", "text": "别的事"},
        {"message_id": "4", "title": "甲小区噪音", "text": "幼儿园"},
    ]
    assert hot_issue_labels(messages, [issue]) == {"1": "one", "3": "one"}


def test_missing_board_names_where_it_should_be(tmp_path: Any) -> None:
    with pytest.raises(FileNotFoundError, match="board-dev.jsonl"):
        load_board(tmp_path / "nowhere" / "board-dev.jsonl")
