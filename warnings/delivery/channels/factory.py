"""Build the configured channels: read their secrets, share one HTTP session, gate each one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from fangxun.core.errors import ConfigError
from fangxun.warnings.delivery.channels.base import Channel
from fangxun.warnings.delivery.channels.config import (HTTP_KINDS, ChannelConfig, DingTalkConfig, EmailConfig,
                                                       RecordConfig, SmsConfig, WebhookConfig, WeComConfig, http_url)
from fangxun.warnings.delivery.channels.dingtalk import DingTalkChannel
from fangxun.warnings.delivery.channels.gate import Gate
from fangxun.warnings.delivery.channels.gated import GatedChannel
from fangxun.warnings.delivery.channels.mail import EmailChannel
from fangxun.warnings.delivery.channels.record import RecordChannel
from fangxun.warnings.delivery.channels.sms import SmsChannel
from fangxun.warnings.delivery.channels.webhook import WebhookChannel
from fangxun.warnings.delivery.channels.wecom import WeComChannel


def build_channels(
    configs: Mapping[str, ChannelConfig],
    http: aiohttp.ClientSession,
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Channel]:
    """One gated channel per configuration, all HTTP channels on the one `http` session."""
    environ = os.environ if environ is None else environ
    check_connection_limit(configs, http)
    channels: dict[str, Channel] = {}
    for name, config in configs.items():
        inner = _build(name, config, http, environ)
        channels[name] = GatedChannel(inner, Gate(config.concurrency, config.rate_per_second))
    return channels


def http_connection_limit(configs: Mapping[str, ChannelConfig]) -> int:
    """Connections the HTTP channels may hold at once: the sum of their concurrencies."""
    return sum(config.concurrency for config in configs.values() if config.kind in HTTP_KINDS)


def new_http_session(configs: Mapping[str, ChannelConfig]) -> aiohttp.ClientSession:
    """A client session whose pool can hold every HTTP channel's connections at once."""
    connector = aiohttp.TCPConnector(limit=max(100, http_connection_limit(configs)), limit_per_host=0)
    return aiohttp.ClientSession(connector=connector)


def check_connection_limit(configs: Mapping[str, ChannelConfig], http: aiohttp.ClientSession) -> None:
    """Refuse a pool smaller than the channels' total concurrency: they would queue behind each other."""
    connector = http.connector
    needed = http_connection_limit(configs)
    if connector is None or needed == 0:
        return
    if connector.limit and connector.limit < needed:
        raise ConfigError(
            f"通知渠道共需 {needed} 个并发连接，HTTP 客户端连接池只有 {connector.limit} 个："
            "慢的渠道会拖住其他渠道；请用 new_http_session(configs) 或调大 TCPConnector(limit=…)"
        )
    if connector.limit_per_host:
        crowded = [
            name
            for name, c in configs.items()
            if c.kind in HTTP_KINDS and c.concurrency > connector.limit_per_host
        ]
        if crowded:
            raise ConfigError(
                f"通知渠道 {', '.join(sorted(crowded))} 的并发数超过连接池每主机上限 "
                f"{connector.limit_per_host}；请设 limit_per_host=0"
            )


def _env(environ: Mapping[str, str], channel: str, variable: str) -> str:
    value = environ.get(variable, "").strip()
    if not value:
        raise ConfigError(f"通知渠道 {channel!r}：环境变量 {variable} 未设置或为空")
    return value


def _env_url(environ: Mapping[str, str], channel: str, variable: str) -> str:
    value = _env(environ, channel, variable)
    try:
        return http_url(value)
    except ValueError:
        # The value is not repeated: it holds the robot's key.
        raise ConfigError(f"通知渠道 {channel!r}：环境变量 {variable} 不是 http(s) 地址") from None


def _build(
    name: str, config: ChannelConfig, http: aiohttp.ClientSession, environ: Mapping[str, str]
) -> Channel:
    timeout = config.timeout_seconds
    if isinstance(config, WebhookConfig):
        secret = _env(environ, name, config.secret_env) if config.secret_env else None
        return WebhookChannel(name, http, config.url, secret=secret, timeout_seconds=timeout)
    if isinstance(config, WeComConfig):
        return WeComChannel(name, http, _env_url(environ, name, config.url_env), timeout_seconds=timeout)
    if isinstance(config, DingTalkConfig):
        url = _env_url(environ, name, config.url_env)
        secret = _env(environ, name, config.secret_env) if config.secret_env else None
        return DingTalkChannel(name, http, url, secret=secret, timeout_seconds=timeout)
    if isinstance(config, SmsConfig):
        token = _env(environ, name, config.token_env)
        return SmsChannel(
            name,
            http,
            config.url,
            token,
            sign=config.sign,
            max_chars=config.max_chars,
            timeout_seconds=timeout,
        )
    if isinstance(config, EmailConfig):
        username = _env(environ, name, config.username_env) if config.username_env else None
        password = _env(environ, name, config.password_env) if config.password_env else None
        if config.ca_file and not Path(config.ca_file).is_file():
            raise ConfigError(f"通知渠道 {name!r}：CA 证书文件 {config.ca_file} 不存在")
        return EmailChannel(
            name,
            config.host,
            config.port,
            config.sender,
            starttls=config.starttls,
            use_tls=config.use_tls,
            username=username,
            password=password,
            ca_file=config.ca_file,
            timeout_seconds=timeout,
        )
    if isinstance(config, RecordConfig):
        return RecordChannel(name, config.path)
    raise ConfigError(f"通知渠道 {name!r}：未知类型 {getattr(config, 'kind', '?')!r}")
