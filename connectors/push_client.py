"""A signed client of a gateway-style API (the demo, tests and operators use it)."""
from __future__ import annotations

import io
import json
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from gateway.signing import signed_headers


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def encode_multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "gateway-" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode("utf-8") + b"\r\n")
    # Raw UTF-8 in the filename, as browsers send it (HTML form-data encoding).
    safe_name = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode("utf-8") + content + b"\r\n"
    )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


class SignedClient:
    """Signs every request as INTEGRATION.md section 1 says (v2 unless told v1); takes an injected ClientSession."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, key_id: str, secret: str, *, version: int = 2) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.key_id = key_id
        self.secret = secret
        self.version = version

    async def _request(self, method: str, path: str, body: bytes = b"", content_type: str | None = None) -> Answer:
        url = URL(self.base_url + path)  # percent-encoded once here; what is signed is what goes on the request line
        if self.version == 2:
            headers = signed_headers(self.key_id, self.secret, body, method=method, target=url.raw_path_qs)
        else:
            headers = signed_headers(self.key_id, self.secret, body)
        if content_type:
            headers["Content-Type"] = content_type
        async with self.session.request(method, url, data=io.BytesIO(body) if body else None, headers=headers) as response:
            text = await response.text()
            try:
                payload: Any = json.loads(text) if text else None
            except json.JSONDecodeError:
                payload = text
            return Answer(response.status, payload)

    async def push_report(self, report: dict[str, Any], *, partial: bool = False) -> Answer:
        body = json.dumps(report, ensure_ascii=False).encode("utf-8")
        path = "/api/v1/reports" + ("?partial=true" if partial else "")
        return await self._request("POST", path, body, "application/json; charset=utf-8")

    async def upload(self, fields: dict[str, str], filename: str, content: bytes, *, partial: bool = False, dry_run: bool = False) -> Answer:
        """POST /api/v1/reports/upload; the multipart body is built here so that the signature covers its exact bytes."""
        body, content_type = encode_multipart(fields, filename, content)
        query = "&".join(name + "=true" for name, on in (("partial", partial), ("dry_run", dry_run)) if on)
        path = "/api/v1/reports/upload" + (f"?{query}" if query else "")
        return await self._request("POST", path, body, content_type)

    async def send_json(self, method: str, path: str, data: Any) -> Answer:
        """POST or PATCH a JSON document (Table 1s, supervision updates)."""
        return await self._request(method, path, json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"), "application/json; charset=utf-8")

    async def upload_file(self, path: str, fields: dict[str, str], filename: str, content: bytes) -> Answer:
        body, content_type = encode_multipart(fields, filename, content)
        return await self._request("POST", path, body, content_type)

    async def get(self, path: str) -> Answer:
        return await self._request("GET", path)
