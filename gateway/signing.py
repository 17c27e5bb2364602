"""HMAC request signatures (INTEGRATION.md section 1), both directions.

v1: `X-Gateway-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`.
v2: `X-Gateway-Nonce: <16–64 of A–Z a–z 0–9 _ ->` and
    `X-Gateway-Signature: v2=<hex HMAC-SHA256 of "<timestamp>.<nonce>.<METHOD>.<path>?<query>.<raw body>">`,
    path and query exactly as on the request line (the `?` always there).

`verify` says who signed and under which key the request is remembered against
replays (`Verified.replay_key`); remembering is the caller's (the nonce store is
the database, shared by every API process).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.errors import Unauthorized
from gateway.settings import ClientKey

KEY_ID = "X-Gateway-Key-Id"
TIMESTAMP = "X-Gateway-Timestamp"
SIGNATURE = "X-Gateway-Signature"
NONCE = "X-Gateway-Nonce"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would take ٣ and ３ too
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    """v1: HMAC-SHA256 of "<timestamp>.<raw body>"."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return mac.hexdigest()


def signature_v2(secret: str, timestamp: str, nonce: str, method: str, target: str, body: bytes) -> str:
    """v2: HMAC-SHA256 of "<timestamp>.<nonce>.<METHOD>.<path>?<query>.<raw body>" (target: the request line's path and query)."""
    path, _, query = target.partition("?")
    message = f"{timestamp}.{nonce}.{method.upper()}.{path}?{query}.".encode("utf-8") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(key_id: str, secret: str, body: bytes, *, method: str | None = None, target: str | None = None,
                   now: float | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers of a signed request: v2 when the method and target (path?query as sent) are given, else v1."""
    timestamp = str(int(now if now is not None else time.time()))
    if method is None or target is None:
        return {KEY_ID: key_id, TIMESTAMP: timestamp, SIGNATURE: "sha256=" + signature_for(secret, timestamp, body)}
    nonce = nonce or secrets.token_urlsafe(18)
    return {KEY_ID: key_id, TIMESTAMP: timestamp, NONCE: nonce, SIGNATURE: "v2=" + signature_v2(secret, timestamp, nonce, method, target, body)}


@dataclass(frozen=True)
class Verified:
    client_id: str
    version: int
    replay_key: str | None  # remembered within the window; None: a v1 read, which the contract lets be repeated
    signature: str  # the hex digest


def verify(headers: Mapping[str, str], body: bytes, clients: Mapping[str, ClientKey], *, window_s: int, method: str = "POST",
           target: str = "/", accept_v1: bool = True, now: float | None = None) -> Verified:
    """The client a request comes from, or Unauthorized saying what is wrong (never which secret)."""
    key_id = headers.get(KEY_ID)
    timestamp = headers.get(TIMESTAMP)
    given = headers.get(SIGNATURE, "")
    if not key_id or not timestamp or not given:
        raise Unauthorized(f"sign the request: headers {KEY_ID}, {TIMESTAMP} and {SIGNATURE} are required")
    client = clients.get(key_id)
    if client is None or client.revoked:
        raise Unauthorized(f"key id {key_id!r} is unknown or revoked; ask the office for a key")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Unauthorized(f"{TIMESTAMP} must be unix seconds in ASCII digits")
    stamp = int(timestamp)
    current = now if now is not None else time.time()
    if abs(current - stamp) > window_s:
        raise Unauthorized(f"{TIMESTAMP} is {int(current - stamp)} s away from the gateway's clock (allowed: {window_s} s); check the client's clock")
    algo, _, hex_value = given.partition("=")
    if algo not in ("sha256", "v2") or not _HEX.fullmatch(hex_value):
        raise Unauthorized(f"{SIGNATURE} must look like v2=<64 hex digits> (or sha256=<64 hex digits>, signature v1)")
    hex_value = hex_value.lower()
    if algo == "v2":
        nonce = headers.get(NONCE, "")
        if not _NONCE.fullmatch(nonce):
            raise Unauthorized(f"a v2 signature needs {NONCE}: 16 to 64 characters of A–Z a–z 0–9 _ -")
        expected = [signature_v2(secret, timestamp, nonce, method, target, body) for secret in client.secrets]
        replay_key: str | None = f"v2:{key_id}:{nonce}"
        hint = 'sign "<timestamp>.<nonce>.<METHOD>.<path>?<query>.<raw body>" with HMAC-SHA256 under the key\'s secret'
        version = 2
    else:
        if not accept_v1:
            raise Unauthorized(f"signature v1 (sha256=) is turned off here: sign with v2 ({NONCE} and {SIGNATURE}: v2=…)")
        expected = [signature_for(secret, timestamp, body) for secret in client.secrets]
        replay_key = f"v1:{key_id}:{hex_value}" if method.upper() in STATE_CHANGING else None
        hint = 'sign "<timestamp>.<raw body>" with HMAC-SHA256 under the key\'s secret'
        version = 1
    if any(hmac.compare_digest(e, hex_value) for e in expected):
        # Remembered as a digest: one fixed-size key for v1 signatures and v2 nonces alike.
        remembered = hashlib.sha256(replay_key.encode("utf-8")).hexdigest() if replay_key else None
        return Verified(client_id=key_id, version=version, replay_key=remembered, signature=hex_value)
    raise Unauthorized(f"the signature does not match: {hint}")
