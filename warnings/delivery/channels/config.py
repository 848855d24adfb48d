"""Channel configuration: one pydantic model per kind, discriminated on `kind`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

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
    """HTTP SMS gateway; `token_env` names the variable holding the bearer token."""

    kind: Literal["sms"]
    url: HttpUrl
    token_env: EnvName
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


ChannelConfig = Annotated[
    WebhookConfig | WeComConfig | DingTalkConfig | SmsConfig | EmailConfig | RecordConfig,
    Field(discriminator="kind"),
]

HTTP_KINDS = frozenset({"webhook", "wecom", "dingtalk", "sms"})
