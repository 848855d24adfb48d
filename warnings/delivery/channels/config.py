"""Channel kinds: one pydantic configuration model per kind, and the registry of kinds (`KINDS`) that the
configuration union (discriminated on `kind`), the factory and the recipients' addresses are read from.

A new kind: its module in this folder (the channel, and `build(name, config, http, secrets)`), its model
here, and one line in KINDS. This module stays pure (pydantic only): settings and routing import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Annotated, Literal, Union, get_args

from pydantic import AfterValidator, Field, model_validator

from fangxun.core.errors import ConfigError
from fangxun.core.settings import Strict

EnvName = Annotated[
    str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="an environment variable's name")
]
Timeout = Annotated[float, Field(gt=0, le=300)]
Concurrency = Annotated[int, Field(ge=1, le=1000)]
Rate = Annotated[float, Field(gt=0, le=10000)]


def http_url(value: str) -> str:
    """`value` if it is an http(s) URL; the error never repeats the URL (it may hold a key)."""
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrl = Annotated[str, AfterValidator(http_url)]


class _ChannelBase(Strict):
    timeout_seconds: Timeout = 10
    concurrency: Concurrency = 1
    rate_per_second: Rate | None = None


class WebhookConfig(_ChannelBase):
    """Generic JSON webhook; `secret_env` names the variable holding the HMAC key."""

    kind: Literal["webhook"]
    url: HttpUrl
    secret_env: EnvName | None = None
    concurrency: Concurrency = 20


class WeComConfig(_ChannelBase):
    """WeCom group robot; `url_env` names the variable holding the robot URL with its key."""

    kind: Literal["wecom"]
    url_env: EnvName
    # WeCom allows 20 messages a minute per robot.
    rate_per_second: Rate | None = 0.3


class DingTalkConfig(_ChannelBase):
    """DingTalk robot; the URL (with access_token) and the signing secret come from variables."""

    kind: Literal["dingtalk"]
    url_env: EnvName
    secret_env: EnvName | None = None
    # DingTalk allows 20 messages a minute per robot.
    rate_per_second: Rate | None = 0.3


class SmsConfig(_ChannelBase):
    """HTTP SMS gateway; `token_env` names the variable holding the bearer token. With `callback_secret_env` (the
    variable holding the key that signs the gateway's inbound messages) replies are taken at
    /api/callbacks/sms/{name} and messages end with 回复1确认收到."""

    kind: Literal["sms"]
    url: HttpUrl
    token_env: EnvName
    callback_secret_env: EnvName | None = None
    sign: str = Field("【郑州防汛】", max_length=20)
    max_chars: int = Field(300, ge=70, le=1000)
    concurrency: Concurrency = 10
    rate_per_second: Rate | None = 20


class EmailConfig(_ChannelBase):
    """SMTP server; login only when `username_env` is set (then `password_env` is required)."""

    kind: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    # Implicit TLS from the first byte (usually port 465); excludes starttls.
    use_tls: bool = False
    ca_file: str | None = None
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    sender: str = Field(min_length=3)
    concurrency: Concurrency = 2

    @model_validator(mode="after")
    def _consistent(self) -> EmailConfig:
        if self.starttls and self.use_tls:
            raise ValueError("starttls and use_tls exclude each other")
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together")
        if "@" not in self.sender:
            raise ValueError("sender must contain an e-mail address")
        return self


class RecordConfig(_ChannelBase):
    """Appends each message to a JSONL file: for the demo and drills, never needs the network."""

    kind: Literal["record"]
    path: str = Field(min_length=1)
    concurrency: Concurrency = 100


class VoiceConfig(_ChannelBase):
    """Generic voice gateway (语音网关): a text-to-speech call per message, key 1 acknowledges; the call
    request and the result callback are signed with the secret in `secret_env`."""

    kind: Literal["voice"]
    url: HttpUrl
    secret_env: EnvName
    # Where the gateway posts call results: {callback_base_url}/api/callbacks/voice/{channel}; by default
    # the service's public base URL (the one ack links use).
    callback_base_url: HttpUrl | None = None
    # Times the gateway plays the text in one call.
    repeat: int = Field(2, ge=1, le=5)
    # An answered call shorter than this without key 1 was hung up before the text was heard through.
    min_heard_seconds: float = Field(20, ge=0, le=600)
    max_chars: int = Field(500, ge=60, le=2000)
    concurrency: Concurrency = 10
    # Calls started per second: set it to what the gateway (the carrier's line) takes.
    rate_per_second: Rate | None = 10


class AliyunVoiceConfig(_ChannelBase):
    """阿里云语音服务 (dyvmsapi): an IvrCall per message (key 1 acknowledges, key 2 replays); the AccessKey pair
    and the token of the report URL come from variables."""

    kind: Literal["aliyun_voice"]
    endpoint: HttpUrl = "https://dyvmsapi.aliyuncs.com/"
    region_id: str = Field("cn-hangzhou", pattern=r"^[a-z0-9-]{1,40}$")
    access_key_id_env: EnvName
    access_key_secret_env: EnvName
    # The secret last segment of the report URL set in the console: /api/callbacks/voice/{channel}/{token}.
    callback_token_env: EnvName
    # The purchased number shown to the callee (必须是已购买的号码).
    called_show_number: str = Field(pattern=r"^[0-9]{5,20}$")
    # The approved text-to-speech template read out, with one variable (`tts_param`) holding the message.
    tts_code: str = Field(pattern=r"^TTS_[0-9A-Za-z_]{1,60}$")
    tts_param: str = Field("text", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,30}$")
    # The template played after key 1 (e.g. 已确认收到，谢谢), without variables.
    ack_tts_code: str = Field(pattern=r"^TTS_[0-9A-Za-z_]{1,60}$")
    # PlayTimes (1-3) and Timeout, the wait for a key in milliseconds.
    repeat: int = Field(2, ge=1, le=3)
    key_timeout_ms: int = Field(10000, ge=1000, le=60000)
    min_heard_seconds: float = Field(20, ge=0, le=600)
    max_chars: int = Field(500, ge=60, le=2000)
    concurrency: Concurrency = 10
    # IvrCall takes 100 requests/s per account; the numbers' lines take fewer calls at once.
    rate_per_second: Rate | None = 10


@dataclass(frozen=True)
class ChannelKind:
    """A kind of channel: its configuration model (whose `kind` literal names it); the module of this
    folder whose `build(name, config, http, secrets)` makes the channel; whether a person's phone number
    is their address on it when their contact names none for it; whether it sends over the shared HTTP
    client session (its concurrency counts towards the session's pool)."""

    config: type[_ChannelBase]
    module: str
    phone: bool = False
    http: bool = False

    @property
    def name(self) -> str:
        return get_args(self.config.model_fields["kind"].annotation)[0]

    def builder(self) -> Callable:
        """The module's `build` (imported on first use: this module must not pull in aiohttp)."""
        return import_module(f"{__package__}.{self.module}").build


KINDS: dict[str, ChannelKind] = {kind.name: kind for kind in (
    ChannelKind(WebhookConfig, "webhook", phone=True, http=True),
    ChannelKind(WeComConfig, "wecom", phone=True, http=True),
    ChannelKind(DingTalkConfig, "dingtalk", phone=True, http=True),
    ChannelKind(SmsConfig, "sms", phone=True, http=True),
    ChannelKind(EmailConfig, "mail"),
    ChannelKind(RecordConfig, "record", phone=True),
    ChannelKind(VoiceConfig, "voice", phone=True, http=True),
    ChannelKind(AliyunVoiceConfig, "aliyun_voice", phone=True, http=True),
)}

ChannelConfig = Annotated[Union[tuple(kind.config for kind in KINDS.values())],  # noqa: UP007 (built from KINDS)
                          Field(discriminator="kind")]
HTTP_KINDS = frozenset(name for name, kind in KINDS.items() if kind.http)
PHONE_KINDS = frozenset(name for name, kind in KINDS.items() if kind.phone)


class Secrets:
    """One channel's secrets from the environment; a missing one is a ConfigError naming the channel and
    the variable, never a value."""

    def __init__(self, channel: str, environ: Mapping[str, str]):
        self.channel = channel
        self.environ = environ
        self.read: list[str] = []  # the values handed out (the factory masks them in the log)

    def get(self, variable: str | None) -> str | None:
        """The value of `variable`, or None when the configuration names none (an optional secret)."""
        return None if variable is None else self.require(variable)

    def require(self, variable: str) -> str:
        value = self.environ.get(variable, "").strip()
        if not value:
            raise ConfigError(f"通知渠道 {self.channel!r}：环境变量 {variable} 未设置或为空")
        self.read.append(value)
        return value

    def url(self, variable: str) -> str:
        """An http(s) URL from `variable` (a robot's URL holds its key)."""
        try:
            return http_url(self.require(variable))
        except ValueError:
            # The value is not repeated: it holds the robot's key.
            raise ConfigError(f"通知渠道 {self.channel!r}：环境变量 {variable} 不是 http(s) 地址") from None
