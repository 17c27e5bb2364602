"""HMAC request signatures (INTEGRATION.md section 1), both directions.

X-Gateway-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.errors import Unauthorized
from gateway.settings import ClientKey

KEY_ID = "X-Gateway-Key-Id"
TIMESTAMP = "X-Gateway-Timestamp"
SIGNATURE = "X-Gateway-Signature"


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return mac.hexdigest()


def signed_headers(key_id: str, secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {KEY_ID: key_id, TIMESTAMP: timestamp, SIGNATURE: "sha256=" + signature_for(secret, timestamp, body)}


@dataclass(frozen=True)
class Verified:
    client_id: str
    signature: str


def verify(headers: Mapping[str, str], body: bytes, clients: Mapping[str, ClientKey], *, window_s: int, now: float | None = None) -> Verified:
    """The client a request comes from, or Unauthorized saying what is wrong (never which secret)."""
    key_id = headers.get(KEY_ID)
    timestamp = headers.get(TIMESTAMP)
    given = headers.get(SIGNATURE, "")
    if not key_id or not timestamp or not given:
        raise Unauthorized(f"sign the request: headers {KEY_ID}, {TIMESTAMP} and {SIGNATURE} are required")
    client = clients.get(key_id)
    if client is None or client.revoked:
        raise Unauthorized(f"key id {key_id!r} is unknown or revoked; ask the office for a key")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise Unauthorized(f"{TIMESTAMP} must be unix seconds") from None
    current = now if now is not None else time.time()
    if abs(current - stamp) > window_s:
        raise Unauthorized(f"{TIMESTAMP} is {int(current - stamp)} s away from the gateway's clock (allowed: {window_s} s); check the client's clock")
    algo, _, hex_value = given.partition("=")
    if algo != "sha256" or not hex_value:
        raise Unauthorized(f"{SIGNATURE} must look like sha256=<hex>")
    for secret in client.secrets:
        if hmac.compare_digest(signature_for(secret, timestamp, body), hex_value.lower()):
            return Verified(client_id=key_id, signature=hex_value.lower())
    raise Unauthorized("the signature does not match: sign \"<timestamp>.<raw body>\" with HMAC-SHA256 under the key's secret")
