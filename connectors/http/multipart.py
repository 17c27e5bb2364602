"""multipart/form-data from the raw body (the signature covers the raw bytes, so the body is read first)."""
from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from gateway.errors import ValidationFailed


@dataclass(frozen=True)
class FormFile:
    filename: str
    content: bytes


def parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, FormFile]]:
    message = BytesParser(policy=policy.HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise ValidationFailed("the body is not multipart/form-data with a boundary", errors=[{"loc": ["body"], "msg": "not multipart"}])
    fields: dict[str, str] = {}
    files: dict[str, FormFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = FormFile(filename=str(filename), content=payload)
        else:
            charset = part.get_content_charset() or "utf-8"
            try:
                fields[name] = payload.decode(charset).strip()
            except (UnicodeDecodeError, LookupError) as exc:
                raise ValidationFailed(f"form field {name!r} is not {charset} text", errors=[{"loc": [name], "msg": "undecodable"}]) from exc
    return fields, files
