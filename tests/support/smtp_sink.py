"""A real local SMTP server (aiosmtpd) in the test's event loop: scripted replies, messages kept."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Self

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the parsed MIME message."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1; `script("451 …", at="DATA")` makes the next reply fail."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None):
        self.received: list[Received] = []
        self.logins: list[str] = []
        self._script: deque[tuple[str, str]] = deque()
        self._tls = tls
        self._login = login
        self._server: asyncio.Server | None = None
        self.port: int | None = None

    def script(self, reply: str, *, at: str = "DATA") -> SmtpSink:
        """Answer the next `at` command ("RCPT" or "DATA") with `reply`, e.g. "550 5.1.1 no such user"."""
        self._script.append((at.upper(), reply))
        return self

    async def start(self) -> SmtpSink:
        """Listen on a free port of 127.0.0.1."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _protocol(self) -> SMTP:
        return SMTP(
            self,
            hostname="smtp-sink.test",
            tls_context=self._tls,
            require_starttls=self._tls is not None,
            authenticator=self._authenticate if self._login else None,
            auth_required=self._login is not None,
            auth_require_tls=self._tls is not None,
        )

    def _scripted(self, stage: str) -> str | None:
        if self._script and self._script[0][0] == stage:
            return self._script.popleft()[1]
        return None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self._login
        )
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self._scripted("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        reply = self._scripted("DATA")
        if reply:
            return reply
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw))
        return "250 OK queued"


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and the certificate file a client must trust."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.fixture(name="smtp_sink")
async def smtp_sink_fixture():
    """A plain SMTP server without TLS or login."""
    async with SmtpSink() as running:
        yield running
