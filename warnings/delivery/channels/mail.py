"""E-mail through SMTP (aiosmtplib): UTF-8 subject and body, optional STARTTLS and login."""

from __future__ import annotations

import hashlib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path

import aiosmtplib

from fangxun.core.errors import ConfigError
from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.classify import redact
from fangxun.warnings.delivery.channels.config import EmailConfig, Secrets

SNIPPET_CHARS = 160


def email_message(message: OutgoingMessage, sender: str) -> EmailMessage:
    """The MIME message: Chinese subject and body, a Message-ID derived from the idempotency key."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = formataddr((message.recipient_name, message.address.strip()))
    mail["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "fangxun"
    # The same key gives the same Message-ID, so a repeated delivery can be recognised as one.
    digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:40]
    mail["Message-ID"] = f"<{digest}@{domain}>"
    mail["X-Fangxun-Idempotency-Key"] = message.idempotency_key
    body = message.text
    if message.ack_url:
        body += f"\n\n收到请点击确认（叫应）：{message.ack_url}\n"
    # base64 keeps the Chinese body 7-bit clean for servers without 8BITMIME.
    mail.set_content(body, charset="utf-8", cte="base64")
    return mail


def smtp_code_result(code: int, text: str, secrets: list[str]) -> ChannelResult:
    """4xx replies are transient (retry), 5xx permanent (no retry)."""
    snippet = " ".join(redact(text, secrets).split())[:SNIPPET_CHARS]
    return ChannelResult(ok=False, retry=code < 500, detail=f"SMTP {code}: {snippet}".strip(), status=code)


class EmailChannel:
    """Sends each message as one e-mail over a fresh SMTP connection."""

    kind = "email"

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        use_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        timeout_seconds: float = 10,
    ):
        self.name = name
        self._host = host
        self._port = port
        self._sender = sender
        self._envelope_sender = parseaddr(sender)[1] or sender
        self._starttls = starttls
        self._use_tls = use_tls
        self._username = username
        self._password = password
        self._tls_context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self._timeout = timeout_seconds
        self._secrets = [password] if password else []

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """Send the e-mail once."""
        address = message.address.strip()
        if "@" not in address:
            return ChannelResult(ok=False, retry=False, detail="no e-mail address")
        try:
            await aiosmtplib.send(
                email_message(message, self._sender),
                sender=self._envelope_sender,
                recipients=[address],
                hostname=self._host,
                port=self._port,
                start_tls=self._starttls,
                use_tls=self._use_tls,
                username=self._username,
                password=self._password,
                tls_context=self._tls_context,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return smtp_code_result(refused.code, refused.message, self._secrets)
        except aiosmtplib.SMTPResponseException as exc:
            return smtp_code_result(exc.code, exc.message, self._secrets)
        except (aiosmtplib.SMTPTimeoutError, TimeoutError):
            return ChannelResult(ok=False, retry=True, detail=f"SMTP timeout after {self._timeout:g} s")
        except ssl.SSLCertVerificationError:
            return ChannelResult(ok=False, retry=False, detail="SMTP server certificate not trusted")
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError) as exc:
            return ChannelResult(
                ok=False, retry=True, detail=f"SMTP connection failed ({type(exc).__name__})"
            )
        except aiosmtplib.SMTPException as exc:
            # What remains is the server lacking what the configuration requires (STARTTLS, AUTH).
            text = " ".join(redact(str(exc), self._secrets).split())[:SNIPPET_CHARS]
            return ChannelResult(ok=False, retry=False, detail=f"SMTP: {text}")
        return ChannelResult(ok=True, retry=False, detail="SMTP accepted", status=250)


def build(name: str, config: EmailConfig, http: object, secrets: Secrets) -> EmailChannel:
    """The channel `config` describes (registered in config.KINDS); it speaks SMTP, not over `http`."""
    username, password = secrets.get(config.username_env), secrets.get(config.password_env)
    if config.ca_file and not Path(config.ca_file).is_file():
        raise ConfigError(f"通知渠道 {name!r}：CA 证书文件 {config.ca_file} 不存在")
    return EmailChannel(name, config.host, config.port, config.sender, starttls=config.starttls,
                        use_tls=config.use_tls, username=username, password=password, ca_file=config.ca_file,
                        timeout_seconds=config.timeout_seconds)
