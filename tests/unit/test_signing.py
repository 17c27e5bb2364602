import pytest

from gateway.errors import Unauthorized
from gateway.settings import ClientKey
from gateway.signing import signed_headers, verify

CLIENTS = {
    "cc": ClientKey(key_id="cc", secrets=["old-secret-0123456789", "new-secret-0123456789"]),
    "gone": ClientKey(key_id="gone", secrets=["gone-secret-0123456789"], revoked=True),
}
BODY = b'{"report_id": "R1"}'
NOW = 1_800_000_000


def test_both_live_secrets_are_accepted_during_rotation() -> None:
    for secret in CLIENTS["cc"].secrets:
        assert verify(signed_headers("cc", secret, BODY, now=NOW), BODY, CLIENTS, window_s=300, now=NOW).client_id == "cc"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "headers"),
        (signed_headers("cc", "wrong-secret-0123456789", BODY, now=NOW), "does not match"),
        (signed_headers("nobody", "old-secret-0123456789", BODY, now=NOW), "unknown or revoked"),
        (signed_headers("gone", "gone-secret-0123456789", BODY, now=NOW), "unknown or revoked"),
        (signed_headers("cc", "old-secret-0123456789", BODY, now=NOW - 301), "away from the gateway's clock"),
    ],
)
def test_bad_signatures_are_refused_with_a_reason(headers: dict[str, str], message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        verify(headers, BODY, CLIENTS, window_s=300, now=NOW)


def test_a_changed_body_breaks_the_signature() -> None:
    headers = signed_headers("cc", "old-secret-0123456789", BODY, now=NOW)
    with pytest.raises(Unauthorized, match="does not match"):
        verify(headers, BODY + b" ", CLIENTS, window_s=300, now=NOW)


def test_nightly_schedule_is_read_in_beijing_time() -> None:
    from datetime import UTC, datetime

    from gateway.intake.pull_sync import next_run

    due = next_run("0 2 * * *", datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # 01:00 on the 24th in Beijing
    assert due.isoformat() == "2026-11-24T02:00:00+08:00"


def test_a_bad_schedule_is_explained() -> None:
    from datetime import UTC, datetime

    from gateway.errors import ConfigError
    from gateway.intake.pull_sync import next_run

    with pytest.raises(ConfigError, match="not a cron expression"):
        next_run("at two", datetime(2026, 11, 23, tzinfo=UTC))
