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


# ---- signature v2 (INTEGRATION.md section 1): method, path, query and a nonce under the HMAC ------------


def _v2(method: str = "GET", target: str = "/api/v1/reports/W47?x=1", body: bytes = b"", nonce: str = "n" * 16) -> dict[str, str]:
    return signed_headers("cc", "old-secret-0123456789", body, method=method, target=target, now=NOW, nonce=nonce)


def test_a_v2_signature_binds_method_path_query_and_nonce() -> None:
    headers = _v2()
    assert headers["X-Gateway-Signature"].startswith("v2=") and headers["X-Gateway-Nonce"] == "n" * 16
    verified = verify(headers, b"", CLIENTS, window_s=300, now=NOW, method="GET", target="/api/v1/reports/W47?x=1")
    assert (verified.client_id, verified.version) == ("cc", 2) and verified.replay_key is not None
    for method, target in [("POST", "/api/v1/reports/W47?x=1"), ("GET", "/api/v1/reports/W48?x=1"), ("GET", "/api/v1/reports/W47?x=2"),
                           ("GET", "/api/v1/reports/W47")]:
        with pytest.raises(Unauthorized, match="does not match"):
            verify(headers, b"", CLIENTS, window_s=300, now=NOW, method=method, target=target)
    other_nonce = {**headers, "X-Gateway-Nonce": "m" * 16}
    with pytest.raises(Unauthorized, match="does not match"):
        verify(other_nonce, b"", CLIENTS, window_s=300, now=NOW, method="GET", target="/api/v1/reports/W47?x=1")


def test_the_v2_message_is_exactly_the_contracts() -> None:
    import hashlib
    import hmac

    message = f"{NOW}.{'n' * 16}.POST./api/v1/reports?partial=true.".encode() + b'{"a":1}'
    expected = hmac.new(b"old-secret-0123456789", message, hashlib.sha256).hexdigest()
    assert _v2("POST", "/api/v1/reports?partial=true", b'{"a":1}')["X-Gateway-Signature"] == "v2=" + expected
    # no query: the "?" is still there
    message = f"{NOW}.{'n' * 16}.GET./api/v1/clues/C1?.".encode()
    assert _v2("GET", "/api/v1/clues/C1")["X-Gateway-Signature"] == "v2=" + hmac.new(b"old-secret-0123456789", message, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("nonce", ["short", "n" * 65, "has space" + "x" * 10, "ünïcode" + "x" * 12, ""])
def test_a_v2_nonce_outside_the_contracts_alphabet_is_refused(nonce: str) -> None:
    headers = {**_v2(), "X-Gateway-Nonce": nonce}
    with pytest.raises(Unauthorized, match="16 to 64 characters"):
        verify(headers, b"", CLIENTS, window_s=300, now=NOW, method="GET", target="/api/v1/reports/W47?x=1")


def test_v1_can_be_turned_off_and_is_remembered_only_for_requests_that_change_state() -> None:
    v1 = signed_headers("cc", "old-secret-0123456789", BODY, now=NOW)
    assert verify(v1, BODY, CLIENTS, window_s=300, now=NOW, method="GET").replay_key is None
    posted = verify(v1, BODY, CLIENTS, window_s=300, now=NOW, method="POST")
    patched = verify(v1, BODY, CLIENTS, window_s=300, now=NOW, method="PATCH")
    assert posted.version == 1 and posted.replay_key is not None and posted.replay_key == patched.replay_key
    with pytest.raises(Unauthorized, match="v1 .* is turned off"):
        verify(v1, BODY, CLIENTS, window_s=300, now=NOW, method="POST", accept_v1=False)


@pytest.mark.parametrize("timestamp", ["١٧٠٠٠٠٠٠٠٠", "１７００００００００", " 1700000000", "1e9", "-1"])
def test_a_timestamp_in_other_digits_is_refused_not_a_crash(timestamp: str) -> None:
    with pytest.raises(Unauthorized, match="ASCII digits"):
        verify({**signed_headers("cc", "a" * 16, BODY, now=NOW), "X-Gateway-Timestamp": timestamp}, BODY, CLIENTS, window_s=10**12, now=NOW)


@pytest.mark.parametrize("signature", ["sha256=é", "v2=" + "é" * 64, "sha256=" + "g" * 64, "v2=" + "0" * 63, "sha256=" + "0" * 65])
def test_a_malformed_signature_is_refused_not_a_crash(signature: str) -> None:
    with pytest.raises(Unauthorized, match="must look like"):
        verify({**signed_headers("cc", "a" * 16, BODY, now=NOW), "X-Gateway-Signature": signature}, BODY, CLIENTS, window_s=300, now=NOW)
