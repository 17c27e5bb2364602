"""The signature check, exactly: what is signed, which header is missing, the clock window's edge, the algorithm (mutmut's survivors of gateway/signing.py).

The HMAC values were computed with openssl, not with this code:
`printf '%s' '1800000000.{"report_id": "R1"}' | openssl dgst -sha256 -hmac old-secret-0123456789`.
"""
from __future__ import annotations

import hashlib
import hmac
import re

import pytest

import gateway.signing
from gateway.errors import Unauthorized
from gateway.settings import ClientKey
from gateway.signing import KEY_ID, SIGNATURE, TIMESTAMP, signature_for, signed_headers, verify

CLIENTS = {"cc": ClientKey(key_id="cc", secrets=["old-secret-0123456789", "new-secret-0123456789"])}
BODY = b'{"report_id": "R1"}'
NOW = 1_800_000_000
OLD_HEX = "b9369b461d17411bfd6ceb91d6c36e09a9543891434e01844c6c83a52b2a4ce7"

FORM = "X-Gateway-Signature must look like v2=<64 hex digits> (or sha256=<64 hex digits>, signature v1)"

def _headers(**changes: str | None) -> dict[str, str]:
    headers = {KEY_ID: "cc", TIMESTAMP: str(NOW), SIGNATURE: "sha256=" + OLD_HEX}
    for name, value in changes.items():
        header = {"key_id": KEY_ID, "timestamp": TIMESTAMP, "signature": SIGNATURE}[name]
        if value is None:
            del headers[header]
        else:
            headers[header] = value
    return headers


def _refusal(headers: dict[str, str], *, now: float | None = NOW) -> str:
    with pytest.raises(Unauthorized) as caught:
        verify(headers, BODY, CLIENTS, window_s=300, now=now)
    return caught.value.detail


def test_the_signature_is_the_hmac_sha256_of_timestamp_dot_body() -> None:
    assert signature_for("old-secret-0123456789", str(NOW), BODY) == OLD_HEX


def test_signed_headers_carry_key_id_timestamp_and_the_prefixed_signature() -> None:
    assert signed_headers("cc", "old-secret-0123456789", BODY, now=NOW) == {
        "X-Gateway-Key-Id": "cc", "X-Gateway-Timestamp": "1800000000", "X-Gateway-Signature": "sha256=" + OLD_HEX}


def test_without_now_the_headers_are_signed_at_the_current_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway.signing.time, "time", lambda: NOW + 0.7)
    assert signed_headers("cc", "old-secret-0123456789", BODY) == {
        "X-Gateway-Key-Id": "cc", "X-Gateway-Timestamp": "1800000000", "X-Gateway-Signature": "sha256=" + OLD_HEX}


def test_without_now_the_check_uses_the_current_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway.signing.time, "time", lambda: NOW + 10.0)
    assert verify(_headers(), BODY, CLIENTS, window_s=300).client_id == "cc"
    monkeypatch.setattr(gateway.signing.time, "time", lambda: NOW + 301.0)
    assert "is 301 s away" in _refusal(_headers(), now=None)


def test_the_verified_signature_is_the_lowercase_hex() -> None:
    verified = verify(_headers(signature="sha256=" + OLD_HEX.upper()), BODY, CLIENTS, window_s=300, now=NOW)
    assert (verified.client_id, verified.signature) == ("cc", OLD_HEX)


@pytest.mark.parametrize("missing", ["key_id", "timestamp", "signature"])
def test_each_missing_header_is_named_as_required(missing: str) -> None:
    assert _refusal(_headers(**{missing: None})) == (
        "sign the request: headers X-Gateway-Key-Id, X-Gateway-Timestamp and X-Gateway-Signature are required")


def test_a_timestamp_that_is_no_number_is_refused_as_such() -> None:
    assert _refusal(_headers(timestamp="yesterday")) == "X-Gateway-Timestamp must be unix seconds in ASCII digits"


def test_exactly_the_window_away_is_still_accepted_one_second_more_is_not() -> None:
    assert verify(_headers(), BODY, CLIENTS, window_s=300, now=NOW + 300).client_id == "cc"
    assert verify(_headers(), BODY, CLIENTS, window_s=300, now=NOW - 300).client_id == "cc"
    assert _refusal(_headers(), now=NOW + 301) == (
        "X-Gateway-Timestamp is 301 s away from the gateway's clock (allowed: 300 s); check the client's clock")
    assert _refusal(_headers(), now=NOW - 301) == (
        "X-Gateway-Timestamp is -301 s away from the gateway's clock (allowed: 300 s); check the client's clock")


@pytest.mark.parametrize("value", ["md5=" + OLD_HEX, "sha256=", OLD_HEX, "sha256:" + OLD_HEX])
def test_a_signature_not_of_the_form_sha256_hex_is_refused_even_with_the_right_hex(value: str) -> None:
    assert _refusal(_headers(signature=value)) == FORM


def test_everything_after_the_first_equals_sign_is_the_hex() -> None:
    # "sha256=<hex>=" is sha256 with the hex "<hex>=": not 64 hex digits, refused for its form before any HMAC
    assert _refusal(_headers(signature=f"sha256={OLD_HEX}=")) == FORM


def test_a_wrong_signature_is_refused_with_what_to_sign() -> None:
    assert _refusal(_headers(signature="sha256=" + "0" * 64)) == (
        'the signature does not match: sign "<timestamp>.<raw body>" with HMAC-SHA256 under the key\'s secret')


def test_the_refusal_never_shows_a_secret() -> None:
    detail = _refusal(_headers(signature="sha256=" + "0" * 64))
    assert not re.search(r"secret-0123456789", detail)


# ---- signature v2 (INTEGRATION.md section 1) and the replay keys ---------------------------------------
# Computed with openssl, not with this code:
# printf '%s' '1800000000.nonce-0123456789abcdef.POST./?.{"report_id": "R1"}' | openssl dgst -sha256 -hmac old-secret-0123456789
# printf '%s' 'v1:cc:b9369b46…2a4ce7' | openssl dgst -sha256 (the v1 replay key), 'v2:cc:nonce-0123456789abcdef' (the v2 one)

NONCE_VALUE = "nonce-0123456789abcdef"
V2_POST_ROOT_HEX = "57eba8301c2ad78f6a50481b756995d492122a4600da4568e1144e26e5158faa"
V1_REPLAY_KEY = "73c8f913f74b4e276a93d80cf8827ffc29327223155e5465bcf38743d2513cb3"
V2_REPLAY_KEY = "c45cb87ef686ffa892df4f45f3d8cf86b3657740f6050a87a4731177719fd41e"


def _v2_headers(hex_value: str = V2_POST_ROOT_HEX, nonce: str | None = NONCE_VALUE) -> dict[str, str]:
    headers = {KEY_ID: "cc", TIMESTAMP: str(NOW), SIGNATURE: "v2=" + hex_value}
    if nonce is not None:
        headers["X-Gateway-Nonce"] = nonce
    return headers


@pytest.mark.parametrize(("method", "target"), [("POST", None), (None, "/api/v1/reports")])
def test_signed_headers_are_v1_unless_both_the_method_and_the_target_are_given(method: str | None, target: str | None) -> None:
    assert signed_headers("cc", "old-secret-0123456789", BODY, method=method, target=target, now=NOW) == {
        "X-Gateway-Key-Id": "cc", "X-Gateway-Timestamp": "1800000000", "X-Gateway-Signature": "sha256=" + OLD_HEX}


def test_without_a_nonce_signed_headers_make_one_of_24_url_safe_characters_and_sign_it() -> None:
    headers = signed_headers("cc", "old-secret-0123456789", BODY, method="post", target="/api/v1/reports?partial=true", now=NOW)
    nonce = headers["X-Gateway-Nonce"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", nonce)  # secrets.token_urlsafe(18): 18 random bytes, 24 base64url characters
    message = f"1800000000.{nonce}.POST./api/v1/reports?partial=true.".encode() + BODY
    assert headers == {"X-Gateway-Key-Id": "cc", "X-Gateway-Timestamp": "1800000000", "X-Gateway-Nonce": nonce,
                       "X-Gateway-Signature": "v2=" + hmac.new(b"old-secret-0123456789", message, hashlib.sha256).hexdigest()}


def test_a_v2_check_without_method_and_target_is_of_a_post_to_the_root() -> None:
    verified = verify(_v2_headers(), BODY, CLIENTS, window_s=300, now=NOW)
    assert verified == gateway.signing.Verified(client_id="cc", version=2, replay_key=V2_REPLAY_KEY, signature=V2_POST_ROOT_HEX)


def test_a_v1_check_without_a_method_is_of_a_post_so_it_is_remembered_against_replays() -> None:
    verified = verify(_headers(), BODY, CLIENTS, window_s=300, now=NOW)
    assert verified == gateway.signing.Verified(client_id="cc", version=1, replay_key=V1_REPLAY_KEY, signature=OLD_HEX)
    assert verify(_headers(), BODY, CLIENTS, window_s=300, now=NOW, method="GET").replay_key is None


@pytest.mark.parametrize("nonce", [None, "short", "n" * 65, "nonce-0123456789abcde!"])
def test_a_v2_signature_without_a_well_formed_nonce_is_refused_saying_what_a_nonce_is(nonce: str | None) -> None:
    with pytest.raises(Unauthorized) as caught:
        verify(_v2_headers(nonce=nonce), BODY, CLIENTS, window_s=300, now=NOW)
    assert caught.value.detail == "a v2 signature needs X-Gateway-Nonce: 16 to 64 characters of A–Z a–z 0–9 _ -"


def test_a_wrong_v2_signature_is_refused_with_the_v2_string_to_sign() -> None:
    with pytest.raises(Unauthorized) as caught:
        verify(_v2_headers("0" * 64), BODY, CLIENTS, window_s=300, now=NOW)
    assert caught.value.detail == ('the signature does not match: sign "<timestamp>.<nonce>.<METHOD>.<path>?<query>.<raw body>" '
                                   "with HMAC-SHA256 under the key's secret")
