"""A real SMTP server on 127.0.0.1 (aiosmtpd), collecting what it receives."""
from __future__ import annotations

import email
import threading
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session


class Inbox:
    """What the server received, and how it misbehaves.

    `faults` is a script consumed one mail transaction at a time: "421" (refused at MAIL FROM,
    service closing), "451" (refused at end of DATA, try later), "drop" (connection closed after
    the data arrived, before any answer), or "ok". `refuse` refuses single recipients for good.
    """

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply, e.g. "550 5.1.1 no such user"
        self.faults: list[str] = []
        self.log: list[str] = []  # what the server did, transaction by transaction
        self._current = "ok"
        self._cond = threading.Condition()

    async def handle_MAIL(self, server: Any, session: Session, envelope: Envelope, address: str, mail_options: list[str]) -> str:
        self._current = self.faults.pop(0) if self.faults else "ok"
        if self._current == "421":
            self.log.append("421 at MAIL FROM")
            return "421 4.3.2 service not available, closing transmission channel"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self._current == "451":
            self.log.append("451 at end of DATA")
            return "451 4.3.0 temporary local problem, try later"
        if self._current == "drop":
            self.log.append("connection dropped during DATA")
            server.transport.close()
            return "451 4.3.0 (never seen: the connection is gone)"
        self.log.append(f"250 accepted for {', '.join(envelope.rcpt_tos)}")
        message = email.message_from_bytes(envelope.original_content or b"", policy=policy.default)
        with self._cond:
            self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            self._cond.notify_all()
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 60) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} message(s) at the SMTP server, got {len(self.messages)} in {timeout} s")
                self._cond.wait(left)
            return list(self.messages)


class SmtpServer:
    def __init__(self, port: int = 0, **controller_options: Any) -> None:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port or _free_port(), **controller_options)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


free_port = _free_port


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with the openssl command line tool (cert.pem, key.pem)."""
    import subprocess

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def login_required(user: str, password: str) -> Any:
    """An aiosmtpd authenticator accepting one user."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return authenticate
