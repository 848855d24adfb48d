"""Log lines as an operator reads them: the text and JSON formats, the context they carry, and no credential in
either (core/logs.py, core/log_context.py, core/redact.py)."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from support.log_capture import captured_log

from fangxun.core.log_context import log_context
from fangxun.core.redact import MASK, redact, register_secret

log = logging.getLogger("fangxun.test")


@pytest.mark.parametrize(("text", "expected"), [
    ('GET /ack/AbCdEfGhIjKlMnOp HTTP/1.1', 'GET /ack/*** HTTP/1.1'),
    ("https://fx.example/ack/AbCdEfGhIjKlMnOp", "https://fx.example/ack/***"),
    ("POST /api/acks/AbCdEfGhIjKlMnOp", "POST /api/acks/***"),
    ("/api/callbacks/voice/aliyun/0123456789abcdef0123456789abcdef", "/api/callbacks/voice/aliyun/***"),
    ("/api/callbacks/voice/gateway", "/api/callbacks/voice/gateway"),  # the signed route: nothing secret in it
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b2c", "https://qyapi.weixin.qq.com/cgi-bin/"
     "webhook/send?key=***"),
    ("https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1&sign=xyz%3D",
     "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1&sign=***"),
    ("username=duty01&password=hunter2!&next=/", "username=duty01&password=***&next=/"),
    ("Authorization: Bearer fx_0123456789abcdef", "Authorization: Bearer ***"),
    ("{'Authorization': 'Basic dXNlcjpwYXNz'}", "{'Authorization': 'Basic ***'}"),
    ('{"password": "hunter2!", "user": "duty01"}', '{"password": "***", "user": "duty01"}'),
    ("postgresql://fangxun:s3cret@db.intranet:5432/fangxun", "postgresql://fangxun:***@db.intranet:5432/fangxun"),
    ("Cookie: fangxun_session=v1.eyJ1Ijoi.abc; theme=dark", "Cookie: fangxun_session=***; theme=dark"),
    # ordinary words and URLs stay readable
    ("token created for label 值班", "token created for label 值班"),
    ("feed zz: http://feeds.intranet/cap.xml?page=2 read", "feed zz: http://feeds.intranet/cap.xml?page=2 read"),
    ("keyboard=1&monkey=2", "keyboard=1&monkey=2"),
])
def test_credentials_are_masked_where_they_stand(text, expected):
    assert redact(text) == expected


def test_a_registered_secret_is_masked_anywhere_and_a_short_one_is_not():
    register_secret("Zq81-long-channel-secret")
    register_secret("ab12")  # too short to mask everywhere: it would blot out ordinary text
    assert redact("signed with Zq81-long-channel-secret (ab12)") == f"signed with {MASK} (ab12)"


def test_json_lines_carry_the_context_and_mask_messages_and_tracebacks():
    with captured_log("json") as captured:
        with log_context(request_id="r-0001abcd", warning_id=12):
            log.info("posting to %s", "http://hook.intranet/send?key=SECRET-KEY-1")
            with log_context(notification_id=345, channel="hook"):
                try:
                    raise RuntimeError("failed on /ack/AbCdEfGhIjKlMnOp")
                except RuntimeError:
                    log.exception("send failed")
        log.warning("no context", extra={"notification_id": 7})
    first, second, third = captured.lines()
    assert first["message"] == "posting to http://hook.intranet/send?key=***"
    assert (first["level"], first["logger"], first["request_id"], first["warning_id"]) == (
        "INFO", "fangxun.test", "r-0001abcd", 12)
    assert "notification_id" not in first and first["time"].endswith("+00:00")
    assert (second["notification_id"], second["channel"], second["warning_id"]) == (345, "hook", 12)
    assert "RuntimeError: failed on /ack/***" in second["exception"] and "AbCdEfGhIjKlMnOp" not in captured.text()
    assert third["notification_id"] == 7 and "request_id" not in third and "warning_id" not in third
    assert "SECRET-KEY-1" not in captured.text()


def test_text_lines_show_the_context_in_brackets():
    with captured_log("text") as captured:
        with log_context(request_id="r-0002abcd", channel="sms"):
            log.warning("gateway slow, password=hunter2!")
        log.info("plain")
    first, second = captured.text().splitlines()
    assert first.endswith("WARNING fangxun.test [request_id=r-0002abcd channel=sms] gateway slow, password=***")
    assert second.endswith("INFO fangxun.test plain")
    with pytest.raises(json.JSONDecodeError):
        json.loads(first)


async def test_the_context_follows_into_tasks_and_ends_with_its_block():
    async def child():
        log.info("in a task")

    with captured_log("json") as captured:
        with log_context(request_id="r-0003abcd"):
            await asyncio.create_task(child())
        log.info("after")
    inside, after = captured.lines()
    assert inside["request_id"] == "r-0003abcd" and "request_id" not in after
