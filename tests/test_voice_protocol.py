"""The voice gateway protocol's pure rules: call ids, the request body, the callback model, what a result means,
and the message as it is read out."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from fangxun.warnings.acks.escalation import escalation_note
from fangxun.warnings.delivery.channels.speech import KEY_PROMPT, speech_text, spoken_line
from fangxun.warnings.delivery.channels.voice_protocol import (CALL_ID_PATTERN, CallReport, call_id, call_outcome,
                                                               call_request, callback_url)
from fangxun.warnings.routing.templates import message_context, render

ACK = "https://fx.zz.example/ack/AbCdEfGhIjKlMnOp"


def test_a_call_id_is_the_same_for_the_same_call_and_names_nobody():
    key = "fx-12-person-410102002001:7-voice"
    assert call_id(key, 1) == call_id(key, 1)
    assert len({call_id(key, 1), call_id(key, 2), call_id(key + "x", 1)}) == 3
    assert re.match(CALL_ID_PATTERN, call_id(key, 1)) and "410102" not in call_id(key, 1)


def test_the_callback_url_quotes_the_channel_name():
    assert callback_url("https://fx.example/", "voice") == "https://fx.example/api/callbacks/voice/voice"
    assert callback_url("https://fx.example", "县/语音") == "https://fx.example/api/callbacks/voice/%E5%8E%BF%2F%E8%AF%AD%E9%9F%B3"


def test_the_request_body_has_exactly_the_protocol_fields():
    body = call_request("fxc-1", "13900000008", "暴雨红色预警。按1确认收到，按2重听。", 2, "https://fx/api/callbacks/voice/v")
    assert "暴雨" in body.decode()  # Chinese as it is, not \\u escapes
    assert json.loads(body) == {"call_id": "fxc-1", "to": "13900000008", "text": "暴雨红色预警。按1确认收到，按2重听。",
                                "repeat": 2, "keys": {"1": "ack", "2": "repeat"},
                                "callback_url": "https://fx/api/callbacks/voice/v"}


def test_a_time_without_a_zone_is_beijing_time():
    report = CallReport.model_validate_json(b'{"call_id":"c","status":"busy","ended_at":"2026-07-20T08:00:00"}')
    assert report.ended_at == datetime(2026, 7, 20, 0, 0, tzinfo=UTC)
    report = CallReport.model_validate_json(b'{"call_id":"c","status":"busy","ended_at":"2026-07-20T08:00:00Z"}')
    assert report.ended_at == datetime(2026, 7, 20, 8, 0, tzinfo=UTC)
    assert (report.keys, report.duration_s) == ("", 0)


@pytest.mark.parametrize(("body", "field"), [
    (b'{"call_id":"c","status":"busy","ended_at":"0001-01-01T00:00:00+08:00"}', "ended_at"),
    (b'{"call_id":"c","status":"busy","ended_at":1784505600}', "ended_at"),
    (b'{"call_id":"c","status":"busy","duration_s":true}', "duration_s"),
    (b'{"call_id":"c","status":"busy","duration_s":-1}', "duration_s"),
    (b'{"call_id":"c","status":"busy","keys":1}', "keys"),
    (b'{"call_id":"c","status":"busy","keys":"1; DROP"}', "keys"),
    (b'{"call_id":"c d","status":"busy"}', "call_id"),
    (b'{"call_id":"c","status":"ANSWERED"}', "status"),
    (b'{"status":"busy"}', "call_id"),
])
def test_a_bad_field_is_named(body, field):
    with pytest.raises(ValidationError) as caught:
        CallReport.model_validate_json(body)
    assert caught.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize(("status", "keys", "seconds", "expected"), [
    ("answered", "", 20.0, ("answered", True, False)),  # heard through exactly
    ("answered", "", 19.99, ("hung_up_early", True, False)),
    ("answered", "2", 5.0, ("hung_up_early", True, False)),
    ("answered", "221", 5.0, ("answered", True, True)),
    ("busy", "1", 0.0, ("busy", False, False)),
])
def test_what_a_result_comes_to(status, keys, seconds, expected):
    report = CallReport(call_id="c", status=status, keys=keys, duration_s=seconds)
    assert tuple(call_outcome(report, 20)) == expected


def test_every_packaged_template_reads_out_without_its_link(settings):
    context = message_context(event="暴雨", colour="red", headline="郑州市气象台发布暴雨红色预警信号",
                              description="预计未来3小时降雨量将达100毫米以上。", instruction="请做好防御工作。",
                              areas=["金水区"], ack_url=ACK, recipient="东村支书")
    for name, template in settings.warnings.templates.items():
        title, text = render(template, context)
        spoken = speech_text(title, text, 2000, ACK)
        assert "http" not in spoken and "点击" not in spoken and "点此" not in spoken, name
        assert spoken.endswith(KEY_PROMPT) and spoken.count("按1") == 1, name
        assert "东村支书" in spoken and ("100毫米" in spoken or "区域无法定位" in spoken), name


def test_an_all_clear_read_out_asks_for_no_key_1(settings):
    context = message_context(event="暴雨", colour="red", kind="all_clear", sender_name="郑州市气象台",
                              description="降雨已基本结束。", areas=["金水区"], recipient="东村支书")
    title, text = render(settings.warnings.templates["all_clear"], context)
    spoken = speech_text(title, text, 2000, "", asks_ack=False)
    assert spoken == ("【解除】郑州市气象台解除暴雨红色预警信号。东村支书：郑州市气象台解除暴雨红色预警信号。降雨已基本结束。"
                      "解除区域：金水区。本条为解除通知，无需叫应。按2重听。")
    assert "按1" not in spoken


def test_an_instruction_joined_to_the_click_is_kept():
    note = escalation_note(["东村支书"], "逾期未叫应")
    assert spoken_line(note) == "东村支书 收到预警后逾期未叫应，现报告您，请督促落实"
    assert spoken_line("请在规定时限内点击确认收到（叫应），未确认将逐级上报：https://x/ack/1") == "未确认将逐级上报"
    assert spoken_line("收到请点此确认（叫应）") == ""


def test_a_long_text_is_cut_and_the_key_prompt_kept():
    spoken = speech_text("【暴雨红色预警】", "降雨。" * 400, 120)
    assert len(spoken) == 120 and spoken.endswith("…" + KEY_PROMPT)
