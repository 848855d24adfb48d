"""The e-mail channel against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

from dataclasses import replace

from support.sinks import refused_url
from support.smtp_sink import SmtpSink, self_signed_tls, smtp_sink_fixture  # noqa: F401 (fixture)

from fangxun.warnings.delivery.channels.base import OutgoingMessage
from fangxun.warnings.delivery.channels.mail import EmailChannel

SENDER = "郑州市防汛抗旱指挥部办公室 <fangxun@zz.example>"
PASSWORD = "smtp-pass-9f8e7d6c"

MESSAGE = OutgoingMessage(
    recipient_name="李明（二七区防汛责任人）",
    address="liming@erqi.example",
    title="【郑州防汛】暴雨红色预警：请立即组织转移",
    text="二七区未来3小时降雨量将达100毫米以上。\n请立即启动Ⅰ级应急响应。",
    ack_url="https://fangxun.example/ack/Lm9Qa2",
    idempotency_key="w9:liming:email:1",
    payload={},
)


def channel(port: int, **options) -> EmailChannel:
    return EmailChannel("mail", "127.0.0.1", port, SENDER, timeout_seconds=5, **options)


async def test_chinese_subject_and_body_arrive_intact(smtp_sink):
    result = await channel(smtp_sink.port).send(MESSAGE)
    assert (result.ok, result.retry) == (True, False), result
    [received] = smtp_sink.received
    assert received.sender == "fangxun@zz.example"
    assert received.recipients == ["liming@erqi.example"]
    mail = received.message
    assert mail["Subject"] == MESSAGE.title
    assert mail["To"].addresses[0].display_name == "李明（二七区防汛责任人）"
    assert mail["From"].addresses[0].display_name == "郑州市防汛抗旱指挥部办公室"
    assert mail["X-Fangxun-Idempotency-Key"] == MESSAGE.idempotency_key
    body = mail.get_content().replace("\r\n", "\n")
    assert MESSAGE.text in body and MESSAGE.ack_url in body
    # Only ASCII on the wire: the Chinese travels encoded.
    received.raw.decode("ascii")


async def test_the_same_key_gives_the_same_message_id(smtp_sink):
    await channel(smtp_sink.port).send(MESSAGE)
    await channel(smtp_sink.port).send(MESSAGE)
    await channel(smtp_sink.port).send(replace(MESSAGE, idempotency_key="w9:liming:email:2"))
    ids = [r.message["Message-ID"] for r in smtp_sink.received]
    assert ids[0] == ids[1] != ids[2]


async def test_a_4xx_reply_is_retried(smtp_sink):
    smtp_sink.script("451 4.3.0 Mail server temporarily rejected message")
    result = await channel(smtp_sink.port).send(MESSAGE)
    assert (result.ok, result.retry, result.status) == (False, True, 451)
    assert "451" in result.detail


async def test_a_5xx_reply_is_not_retried(smtp_sink):
    smtp_sink.script("550 5.1.1 Mailbox unavailable", at="RCPT")
    result = await channel(smtp_sink.port).send(MESSAGE)
    assert (result.ok, result.retry, result.status) == (False, False, 550)
    smtp_sink.script("554 5.7.1 Message rejected")
    result = await channel(smtp_sink.port).send(MESSAGE)
    assert (result.ok, result.retry, result.status) == (False, False, 554)


async def test_a_temporarily_refused_recipient_is_retried(smtp_sink):
    smtp_sink.script("450 4.2.1 Mailbox busy", at="RCPT")
    result = await channel(smtp_sink.port).send(MESSAGE)
    assert (result.ok, result.retry) == (False, True)


async def test_connection_refused_is_retried():
    port = int(refused_url("").rsplit(":", 1)[1])
    result = await channel(port).send(MESSAGE)
    assert (result.ok, result.retry) == (False, True)


async def test_no_address_is_not_retried(smtp_sink):
    result = await channel(smtp_sink.port).send(replace(MESSAGE, address=""))
    assert (result.ok, result.retry) == (False, False)
    assert smtp_sink.received == []


async def test_starttls_and_login(tmp_path):
    tls, cert = self_signed_tls(tmp_path)
    async with SmtpSink(tls=tls, login=("fangxun", PASSWORD)) as server:
        good = channel(server.port, starttls=True, ca_file=str(cert), username="fangxun", password=PASSWORD)
        result = await good.send(MESSAGE)
        assert result.ok, result
        assert server.logins == ["fangxun"]
        assert server.received[0].message["Subject"] == MESSAGE.title

        wrong = channel(
            server.port, starttls=True, ca_file=str(cert), username="fangxun", password="wrong-" + PASSWORD
        )
        result = await wrong.send(MESSAGE)
        assert (result.ok, result.retry) == (False, False), result
        assert PASSWORD not in result.detail

        untrusted = channel(server.port, starttls=True, username="fangxun", password=PASSWORD)
        result = await untrusted.send(MESSAGE)
        assert (result.ok, result.retry) == (False, False)
        assert "certificate" in result.detail


async def test_starttls_required_but_not_offered_is_not_retried(smtp_sink):
    result = await channel(smtp_sink.port, starttls=True).send(MESSAGE)
    assert (result.ok, result.retry) == (False, False), result
