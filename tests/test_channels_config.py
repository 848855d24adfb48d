"""Channel configuration models, the factory's secrets from the environment, the record channel."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import get_args

import aiohttp
import pytest
from pydantic import TypeAdapter, ValidationError

from fangxun.core.errors import ConfigError
from fangxun.warnings.delivery.channels.base import Channel, OutgoingMessage
from fangxun.warnings.delivery.channels.config import (HTTP_KINDS, KINDS, ChannelConfig, EmailConfig, SmsConfig,
                                                       WeComConfig)
from fangxun.warnings.delivery.channels.factory import build_channels
from fangxun.warnings.routing.recipients import person_address

CONFIGS = TypeAdapter(dict[str, ChannelConfig])

TOML_LIKE = {
    "shuili_hook": {
        "kind": "webhook",
        "url": "https://hooks.shuili.example/fangxun",
        "secret_env": "FX_SHUILI_SECRET",
    },
    "yingji_wecom": {"kind": "wecom", "url_env": "FX_YINGJI_WECOM_URL"},
    "jiaotong_ding": {"kind": "dingtalk", "url_env": "FX_JT_DING_URL", "secret_env": "FX_JT_DING_SECRET"},
    "sms": {"kind": "sms", "url": "https://sms.gateway.example/send", "token_env": "FX_SMS_TOKEN"},
    "mail": {
        "kind": "email",
        "host": "mail.zz.example",
        "port": 587,
        "starttls": True,
        "username_env": "FX_MAIL_USER",
        "password_env": "FX_MAIL_PASSWORD",
        "sender": "郑州防汛 <fangxun@zz.example>",
    },
    "drill": {"kind": "record", "path": "var/drill.jsonl"},
    "voice": {"kind": "voice", "url": "https://voice.gateway.example/call", "secret_env": "FX_VOICE_SECRET"},
    "aliyun": {"kind": "aliyun_voice", "access_key_id_env": "FX_ALIYUN_AK", "access_key_secret_env": "FX_ALIYUN_SK",
               "callback_token_env": "FX_ALIYUN_TOKEN", "called_show_number": "037100000000",
               "tts_code": "TTS_100001", "ack_tts_code": "TTS_100002"},
}

ENVIRON = {
    "FX_SHUILI_SECRET": "s3cret-shuili",
    "FX_YINGJI_WECOM_URL": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123",
    "FX_JT_DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=tok",
    "FX_JT_DING_SECRET": "SECxyz",
    "FX_SMS_TOKEN": "sms-token",
    "FX_MAIL_USER": "fangxun",
    "FX_MAIL_PASSWORD": "pw",
    "FX_VOICE_SECRET": "voice-secret",
    "FX_ALIYUN_AK": "LTAI-id",
    "FX_ALIYUN_SK": "aliyun-secret",
    "FX_ALIYUN_TOKEN": "aliyun-push-token",
}


def test_each_kind_parses_with_its_defaults():
    configs = CONFIGS.validate_python(TOML_LIKE)
    assert {name: c.kind for name, c in configs.items()} == {
        "shuili_hook": "webhook",
        "yingji_wecom": "wecom",
        "jiaotong_ding": "dingtalk",
        "sms": "sms",
        "mail": "email",
        "drill": "record",
        "voice": "voice",
        "aliyun": "aliyun_voice",
    }
    assert (configs["shuili_hook"].concurrency, configs["shuili_hook"].rate_per_second) == (20, None)
    assert (configs["yingji_wecom"].concurrency, configs["yingji_wecom"].rate_per_second) == (1, 0.3)
    assert (configs["jiaotong_ding"].concurrency, configs["jiaotong_ding"].rate_per_second) == (1, 0.3)
    assert (configs["sms"].concurrency, configs["sms"].rate_per_second, configs["sms"].sign) == (
        10,
        20,
        "【郑州防汛】",
    )
    assert configs["mail"].concurrency == 2 and configs["mail"].timeout_seconds == 10
    voice = configs["voice"]
    assert (voice.concurrency, voice.rate_per_second, voice.repeat, voice.min_heard_seconds) == (10, 10, 2, 20)
    assert voice.callback_base_url is None
    aliyun = configs["aliyun"]
    assert (aliyun.endpoint, aliyun.region_id, aliyun.repeat, aliyun.tts_param) == (
        "https://dyvmsapi.aliyuncs.com/", "cn-hangzhou", 2, "text")


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"kind": "pager", "url": "https://x.example"}, "pager"),
        ({"kind": "webhook", "url": "https://x.example/h", "retries": 3}, "retries"),
        ({"kind": "webhook", "url": "ftp://x.example/h"}, "http"),
        ({"kind": "webhook", "url": "https://x.example/h", "secret_env": "not a name"}, "secret_env"),
        ({"kind": "wecom"}, "url_env"),
        ({"kind": "wecom", "url_env": "X", "concurrency": 0}, "concurrency"),
        (
            {"kind": "sms", "url": "https://x.example", "token_env": "T", "rate_per_second": 0},
            "rate_per_second",
        ),
        ({"kind": "email", "host": "h", "sender": "a@b.c", "starttls": True, "use_tls": True}, "exclude"),
        ({"kind": "email", "host": "h", "sender": "a@b.c", "username_env": "U"}, "together"),
        ({"kind": "record"}, "path"),
        ({"kind": "voice", "url": "https://v.example/call"}, "secret_env"),
        ({"kind": "voice", "url": "https://v.example/call", "secret_env": "S", "repeat": 0}, "repeat"),
        ({"kind": "voice", "url": "https://v.example/call", "secret_env": "S", "callback_base_url": "fx.example"},
         "callback_base_url"),
        ({"kind": "aliyun_voice", "access_key_id_env": "A", "access_key_secret_env": "S", "callback_token_env": "T",
          "called_show_number": "0371", "tts_code": "TTS_1", "ack_tts_code": "TTS_2"}, "called_show_number"),
        ({"kind": "aliyun_voice", "access_key_id_env": "A", "access_key_secret_env": "S", "callback_token_env": "T",
          "called_show_number": "037100000000", "tts_code": "TTS_1", "ack_tts_code": "TTS_2", "repeat": 4}, "repeat"),
    ],
)
def test_bad_entries_are_refused(entry, complaint):
    with pytest.raises(ValidationError, match=complaint):
        CONFIGS.validate_python({"c": entry})


async def test_the_factory_builds_gated_channels_on_one_session():
    configs = CONFIGS.validate_python(TOML_LIKE)
    async with aiohttp.ClientSession() as http:
        channels = build_channels(configs, http, environ=ENVIRON)
    assert set(channels) == set(TOML_LIKE)
    for name, channel in channels.items():
        assert isinstance(channel, Channel)
        assert channel.name == name and channel.kind == TOML_LIKE[name]["kind"]
        assert channel.gate.concurrency == configs[name].concurrency
        assert channel.gate.rate_per_second == configs[name].rate_per_second
    http_channels = [c.inner for c in channels.values() if c.kind in HTTP_KINDS]
    assert {id(c._http) for c in http_channels} == {id(http)}
    # Each channel has a gate of its own.
    assert len({id(c.gate) for c in channels.values()}) == len(channels)


@pytest.mark.parametrize(
    "missing",
    ["FX_SHUILI_SECRET", "FX_YINGJI_WECOM_URL", "FX_JT_DING_SECRET", "FX_SMS_TOKEN", "FX_MAIL_PASSWORD",
     "FX_VOICE_SECRET"],
)
async def test_a_missing_variable_names_the_channel_and_the_variable(missing):
    configs = CONFIGS.validate_python(TOML_LIKE)
    environ = {k: v for k, v in ENVIRON.items() if k != missing}
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ConfigError) as caught:
            build_channels(configs, http, environ=environ)
    assert missing in caught.value.detail
    owner = next(name for name, entry in TOML_LIKE.items() if missing in entry.values())
    assert owner in caught.value.detail


async def test_a_robot_url_that_is_not_a_url_is_refused_without_repeating_it():
    configs = {"w": WeComConfig(kind="wecom", url_env="W")}
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ConfigError) as caught:
            build_channels(configs, http, environ={"W": "key=abc-secret-123"})
    assert "abc-secret-123" not in caught.value.detail and "W" in caught.value.detail


async def test_a_missing_ca_file_is_a_config_error(tmp_path):
    configs = {
        "m": EmailConfig(
            kind="email", host="h", sender="a@b.c", starttls=True, ca_file=str(tmp_path / "no.pem")
        )
    }
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ConfigError, match="no.pem"):
            build_channels(configs, http, environ={})


async def test_record_channel_appends_json_lines(tmp_path):
    path = tmp_path / "drill" / "out.jsonl"
    configs = CONFIGS.validate_python({"drill": {"kind": "record", "path": str(path)}})
    async with aiohttp.ClientSession() as http:
        channel = build_channels(configs, http)["drill"]
    for n in range(3):
        message = OutgoingMessage(
            "二七区防汛办", "", "暴雨黄色预警", "注意防范", f"/ack/{n}", f"k{n}", {"n": n}
        )
        result = await channel.send(message)
        assert (result.ok, result.retry) == (True, False)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["idempotency_key"] for line in lines] == ["k0", "k1", "k2"]
    assert (
        lines[0]["title"] == "暴雨黄色预警"
        and lines[0]["channel"] == "drill"
        and lines[2]["payload"] == {"n": 2}
    )


async def test_record_channel_reports_an_unwritable_file_as_retryable(tmp_path):
    (tmp_path / "blocker").write_text("a file, not a directory")
    configs = {
        "drill": CONFIGS.validate_python(
            {"d": {"kind": "record", "path": str(tmp_path / "blocker" / "x.jsonl")}}
        )["d"]
    }
    async with aiohttp.ClientSession() as http:
        channel = build_channels(configs, http)["drill"]
    result = await channel.send(OutgoingMessage("a", "", "t", "x", "/ack/1", "k", {}))
    assert (result.ok, result.retry) == (False, True)


def test_sms_sign_is_configurable():
    config = SmsConfig(kind="sms", url="https://sms.example/send", token_env="T", sign="【郑州市应急管理局】")
    assert config.sign == "【郑州市应急管理局】"


def test_every_kind_is_registered_once_for_the_union_the_factory_and_the_addresses():
    # The factory test above builds one channel of every kind: a new kind brings its sample to TOML_LIKE.
    assert set(KINDS) == {entry["kind"] for entry in TOML_LIKE.values()}, "TOML_LIKE lacks a registered kind"
    union = get_args(get_args(ChannelConfig)[0])
    assert set(union) == {kind.config for kind in KINDS.values()} and len(union) == len(KINDS)
    for name, kind in KINDS.items():
        assert kind.name == name and callable(kind.builder())
    # A person's phone number is an address on every kind the registry says takes one, and no other.
    for name, kind in KINDS.items():
        assert person_address({}, "13800000000", "c", name) == ("13800000000" if kind.phone else "")
        assert person_address({name: "li@example.cn"}, "13800000000", "c", name) == "li@example.cn"
    assert not KINDS["email"].phone and KINDS["sms"].phone and KINDS["voice"].phone


def test_the_kinds_registry_imports_no_channel():
    code = ("import sys; import fangxun.warnings.delivery.channels.config, fangxun.warnings.routing.recipients; "
            "print('aiohttp' in sys.modules, 'aiosmtplib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == (
        "False False\n")
