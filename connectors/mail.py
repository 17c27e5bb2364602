"""Mail transports: a real SMTP server, or .eml files in a local outbox folder.

Both report per recipient, so that one refused address does not hold back the
others; a server that cannot be reached is a TransientError (retry later).
"""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gateway.errors import ConfigError, TransientError
from gateway.ports import MailTransport, RecipientResult

__all__ = ["FolderTransport", "MailTransport", "RecipientResult", "SmtpTransport", "make_transport"]


class FolderTransport(MailTransport):
    """Writes `<name>.eml` into a folder (the embedded default, no mail server needed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.location = str(folder)

    def path_for(self, name: str) -> Path:
        return self.folder / f"{name}.eml"

    def check(self, timeout: float) -> str:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".ready"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise TransientError(f"cannot write .eml files to {self.folder}: {exc.strerror or exc}") from exc
        return f"writing .eml files to {self.folder}"

    def send(self, message: EmailMessage, recipients: list[str], *, name: str) -> dict[str, RecipientResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path_for(name)
        tmp = target.with_suffix(".eml.tmp")
        tmp.write_bytes(bytes(message))
        os.replace(tmp, target)  # a reader never sees half a file
        return {r: RecipientResult(ok=True) for r in recipients}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    mode: str  # "plain", "ssl", "starttls"
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpSettings:
    """smtp://host:port, smtps://user:pass@host:port, smtp+starttls://user:pass@host:port."""
    parts = urlsplit(url)
    modes = {"smtp": ("plain", 25), "smtps": ("ssl", 465), "smtp+starttls": ("starttls", 587)}
    if parts.scheme not in modes or not parts.hostname:
        raise ConfigError(
            f"GATEWAY_SMTP_URL {url.split('@')[-1]!r} is not understood: use smtp://host:port, "
            "smtps://user:pass@host:port or smtp+starttls://user:pass@host:port"
        )
    mode, default_port = modes[parts.scheme]
    for part in (parts.username, parts.password):
        if part and not unquote(part).isascii():
            # smtplib sends AUTH PLAIN/LOGIN as ASCII; a non-ASCII secret would fail at every send.
            raise ConfigError("GATEWAY_SMTP_URL: the SMTP user name and password must be ASCII (percent-encode @ : / as %40 %3A %2F)")
    return SmtpSettings(
        host=parts.hostname, port=parts.port or default_port, mode=mode,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _reply(code: int, text: bytes | str) -> str:
    """The server's answer as a person reads it: `550 5.1.1 mailbox unavailable`."""
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


class SmtpTransport(MailTransport):
    def __init__(self, url: str, *, timeout: float = 30.0, ca_file: Path | None = None) -> None:
        self.settings = parse_smtp_url(url)
        self.timeout = timeout
        self.ca_file = ca_file
        self.location = f"smtp://{self.settings.host}:{self.settings.port}"

    def _connect(self, timeout: float | None = None) -> smtplib.SMTP:
        s = self.settings
        timeout = self.timeout if timeout is None else timeout
        # The server's certificate is always checked: against the system's CAs, or a relay's private CA.
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        if s.mode == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=timeout)
        try:
            if s.mode == "starttls":
                client.starttls(context=context)
            if s.username:
                client.login(s.username, s.password or "")
        except BaseException:
            client.close()  # a refused login or TLS must not leave the connection open
            raise
        return client

    def check(self, timeout: float) -> str:
        """Connect, TLS and login as configured, then NOOP and QUIT."""
        client = self._connect(timeout)
        try:
            client.noop()
        finally:
            client.quit()
        return f"{self.location} answers" + (" (login accepted)" if self.settings.username else "")

    def send(self, message: EmailMessage, recipients: list[str], *, name: str) -> dict[str, RecipientResult]:
        try:
            client = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientError(f"{self.location}: login refused ({exc.smtp_code}); check the user and password in GATEWAY_SMTP_URL") from exc
        except ssl.SSLCertVerificationError as exc:
            raise TransientError(f"{self.location}: the server's certificate is not trusted ({exc.verify_message}); for a private CA set GATEWAY_SMTP_CA_FILE") from exc
        except (OSError, smtplib.SMTPException, socket.timeout) as exc:
            raise TransientError(f"{self.location}: cannot connect ({exc})") from exc
        try:
            refused = client.send_message(message, from_addr=None, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients
        except smtplib.SMTPResponseException as exc:
            # Sender refused or data refused: the same for every recipient.
            result = RecipientResult(ok=False, permanent=_is_permanent(exc.smtp_code), error=_reply(exc.smtp_code, exc.smtp_error))
            return {r: result for r in recipients}
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientError(f"{self.location}: connection lost while sending ({exc})") from exc
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                pass
        results = {}
        for recipient in recipients:
            if recipient in refused:
                code, text = refused[recipient]
                results[recipient] = RecipientResult(ok=False, permanent=_is_permanent(code), error=_reply(code, text))
            else:
                results[recipient] = RecipientResult(ok=True)
        return results


def make_transport(smtp_url: str | None, outbox_dir: Path, *, ca_file: Path | None = None) -> MailTransport:
    return SmtpTransport(smtp_url, ca_file=ca_file) if smtp_url else FolderTransport(outbox_dir)
