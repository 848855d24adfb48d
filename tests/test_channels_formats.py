"""What each HTTP channel sends: bodies, headers, signatures, and text cut to the receivers' limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import quote_plus

from support.sinks import http_fixture, sink_fixture  # noqa: F401 (fixtures)

from fangxun.warnings.delivery.channels.base import OutgoingMessage
from fangxun.warnings.delivery.channels.classify import redact, url_secrets
from fangxun.warnings.delivery.channels.dingtalk import DingTalkChannel
from fangxun.warnings.delivery.channels.signing import dingtalk_sign
from fangxun.warnings.delivery.channels.sms import SmsChannel
from fangxun.warnings.delivery.channels.text import cut_utf8, fit_bytes
from fangxun.warnings.delivery.channels.webhook import WebhookChannel, verify_webhook_signature, webhook_body
from fangxun.warnings.delivery.channels.wecom import MAX_CONTENT_BYTES, WeComChannel, wecom_markdown

SECRET = "whsec-5d1c7a0b9e8f"
NOW = 1_780_000_000.0

MESSAGE = OutgoingMessage(
    recipient_name="中原区城管局值班室",
    address="",
    title="暴雨橙色预警",
    text="中原区未来6小时降雨量将达50毫米以上。",
    ack_url="https://fangxun.example/ack/q7Wm3x",
    idempotency_key="w7:zhongyuan-cg:webhook:1",
    payload={"warning_id": 7, "colour": "orange", "title": "不应覆盖标题"},
)


async def test_webhook_posts_signed_json_with_the_idempotency_key(sink, http):
    channel = WebhookChannel("hook", http, sink.url_for("/in"), secret=SECRET, clock=lambda: NOW)
    result = await channel.send(MESSAGE)
    assert result.ok
    request = sink.requests[0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == MESSAGE.idempotency_key
    assert request.headers["X-Fangxun-Timestamp"] == str(int(NOW))
    assert request.json == {
        "title": "暴雨橙色预警",
        "text": MESSAGE.text,
        "recipient": "中原区城管局值班室",
        "address": "",
        "ack_url": MESSAGE.ack_url,
        "idempotency_key": MESSAGE.idempotency_key,
        "warning_id": 7,
        "colour": "orange",
    }
    assert request.body == webhook_body(MESSAGE)
    header = request.headers["X-Fangxun-Signature"]
    assert header.startswith("sha256=")
    assert verify_webhook_signature(
        SECRET, request.headers["X-Fangxun-Timestamp"], request.body, header, now=NOW + 5
    )
    # Computed independently: HMAC-SHA256 over "<timestamp>.<body>".
    expected = hmac.new(SECRET.encode(), f"{int(NOW)}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"


async def test_webhook_without_a_secret_sends_no_signature(sink, http):
    await WebhookChannel("hook", http, sink.url_for("/in")).send(MESSAGE)
    headers = sink.requests[0].headers
    assert "X-Fangxun-Signature" not in headers
    assert headers["X-Fangxun-Timestamp"].isdigit()


def test_webhook_signature_verification_refuses_what_it_should():
    body = webhook_body(MESSAGE)
    stamp = str(int(NOW))
    good = "sha256=" + hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert verify_webhook_signature(SECRET, stamp, body, good, now=NOW)
    assert verify_webhook_signature(SECRET.encode(), int(stamp), body, good, now=NOW - 299)
    assert not verify_webhook_signature(SECRET, stamp, body + b" ", good, now=NOW)
    assert not verify_webhook_signature("other-secret", stamp, body, good, now=NOW)
    assert not verify_webhook_signature(SECRET, str(int(NOW) + 1), body, good, now=NOW)
    assert not verify_webhook_signature(SECRET, stamp, body, good, now=NOW + 301)
    assert not verify_webhook_signature(SECRET, stamp, body, good, now=NOW + 61, tolerance=60)
    assert not verify_webhook_signature(SECRET, stamp, body, good.removeprefix("sha256="), now=NOW)
    assert not verify_webhook_signature(SECRET, stamp, body, "sha256=zz", now=NOW)
    assert not verify_webhook_signature(SECRET, stamp, body, "sha256=签名", now=NOW)
    assert not verify_webhook_signature(SECRET, "yesterday", body, good, now=NOW)
    assert not verify_webhook_signature(SECRET, stamp, body, None, now=NOW)


async def test_wecom_posts_markdown_with_the_ack_link(sink, http):
    sink.script(200, json={"errcode": 0, "errmsg": "ok"})
    url = sink.url_for("/cgi-bin/webhook/send", key="k-123456")
    assert (await WeComChannel("wecom", http, url).send(MESSAGE)).ok
    request = sink.requests[0]
    assert request.query == {"key": "k-123456"}
    document = request.json
    assert document["msgtype"] == "markdown"
    content = document["markdown"]["content"]
    assert "暴雨橙色预警" in content and "中原区城管局值班室" in content and MESSAGE.text in content
    assert content.endswith(f"({MESSAGE.ack_url})")


def test_wecom_content_is_cut_on_a_character_boundary_and_keeps_the_ack_link():
    long = replace(MESSAGE, text="强降雨😀" * 2000)
    content = wecom_markdown(long)
    encoded = content.encode("utf-8")
    assert len(encoded) <= MAX_CONTENT_BYTES
    assert encoded.decode("utf-8") == content
    assert content.endswith(f"({MESSAGE.ack_url})") and "…" in content
    assert content.startswith("## 暴雨橙色预警")
    # A title that alone is too long still leaves the ack link whole.
    huge_title = wecom_markdown(replace(MESSAGE, title="题" * 5000))
    assert len(huge_title.encode()) <= MAX_CONTENT_BYTES and huge_title.endswith(f"({MESSAGE.ack_url})")


def test_cut_utf8_never_splits_a_character():
    assert cut_utf8("汛期", 5) == "汛"
    assert cut_utf8("汛期", 6) == "汛期"
    assert cut_utf8("a😀", 4) == "a"
    assert fit_bytes("头", "正文" * 10, "尾", 12) == "头正…尾"


async def test_dingtalk_signs_with_timestamp_and_secret(sink, http):
    secret, stamp_ms = "SECa1b2c3d4e5f6", 1_780_000_000_123
    sink.script(200, json={"errcode": 0, "errmsg": "ok"})
    url = sink.url_for("/robot/send", access_token="tok-abcdef")
    channel = DingTalkChannel("ding", http, url, secret=secret, clock=lambda: stamp_ms / 1000)
    assert (await channel.send(MESSAGE)).ok
    request = sink.requests[0]
    assert request.query["access_token"] == "tok-abcdef"
    timestamp = request.query["timestamp"]
    assert timestamp == str(stamp_ms)
    # DingTalk's documented scheme, recomputed from what arrived.
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    assert request.query["sign"] == expected == dingtalk_sign(secret, stamp_ms)
    assert f"sign={quote_plus(expected)}" in request.query_string
    document = request.json
    assert document["msgtype"] == "markdown"
    assert document["markdown"]["title"] == "暴雨橙色预警"
    assert MESSAGE.text in document["markdown"]["text"]
    assert document["markdown"]["text"].endswith(f"({MESSAGE.ack_url})")


async def test_dingtalk_without_a_secret_posts_to_the_plain_url(sink, http):
    url = sink.url_for("/robot/send", access_token="tok-abcdef")
    await DingTalkChannel("ding", http, url).send(MESSAGE)
    assert sink.requests[0].query == {"access_token": "tok-abcdef"}


async def test_sms_posts_phone_and_signed_short_text_with_bearer_token(sink, http):
    sink.script(200, json={"code": 0})
    channel = SmsChannel("sms", http, sink.url_for("/sms"), "tok-sms-123456", max_chars=120)
    message = replace(MESSAGE, address=" 13912345678 ", text="全市范围内将出现强降雨。" * 30)
    assert (await channel.send(message)).ok
    request = sink.requests[0]
    assert request.headers["Authorization"] == "Bearer tok-sms-123456"
    assert request.headers["Idempotency-Key"] == MESSAGE.idempotency_key
    document = request.json
    assert document["phone"] == "13912345678"
    text = document["text"]
    assert text.startswith("【郑州防汛】暴雨橙色预警：全市")
    assert text.endswith(MESSAGE.ack_url)
    assert len(text) <= 120


async def test_sms_without_a_number_is_refused_without_a_request(sink, http):
    result = await SmsChannel("sms", http, sink.url_for("/sms"), "tok-sms-123456").send(MESSAGE)
    assert (result.ok, result.retry) == (False, False)
    assert sink.requests == []


def test_redaction_masks_every_form_of_a_secret():
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a+b/c=d-1234"
    text = f"at {url} key=a+b/c=d-1234 key=a%2Bb%2Fc%3Dd-1234 ok"
    masked = redact(text, url_secrets(url))
    assert "a+b/c=d-1234" not in masked and "a%2Bb%2Fc%3Dd-1234" not in masked
    assert masked.endswith("ok")
    assert json.dumps(masked)


def test_webhook_body_is_the_plain_json_of_payload_and_core_fields():
    when = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)
    shared = {"warning_id": 7, "colour": "红", "areas": ["中原区", "金水区"], "sent": when, "note": 'a "quoted"\nline'}
    payloads = [{}, shared, shared, {"title": "payload title loses", "warning_id": 1}, {"n": None, "ok": True}]
    for number, payload in enumerate(payloads):
        message = replace(MESSAGE, payload=payload, recipient_name=f"责任人{number}", text=f"第{number}条\t\"预警\"\u2028")
        plain = json.dumps({**payload, "title": message.title, "text": message.text, "recipient": message.recipient_name,
                            "address": message.address, "ack_url": message.ack_url,
                            "idempotency_key": message.idempotency_key},
                           ensure_ascii=False, separators=(",", ":"), default=str).encode()
        assert webhook_body(message) == plain
    shared["colour"] = "橙"  # a payload changed after it was first sent is encoded afresh
    assert json.loads(webhook_body(replace(MESSAGE, payload=shared)))["colour"] == "橙"
