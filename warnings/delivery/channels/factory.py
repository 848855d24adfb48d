"""Build the configured channels (each by its kind's module, see KINDS): read their secrets, share one HTTP
session, gate each one."""

from __future__ import annotations

import os
from collections.abc import Mapping

import aiohttp

from fangxun.core.errors import ConfigError
from fangxun.core.redact import register_secret
from fangxun.warnings.delivery.channels.base import Channel
from fangxun.warnings.delivery.channels.classify import url_secrets
from fangxun.warnings.delivery.channels.config import HTTP_KINDS, KINDS, ChannelConfig, Secrets
from fangxun.warnings.delivery.channels.gate import Gate
from fangxun.warnings.delivery.channels.gated import GatedChannel


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


def _build(
    name: str, config: ChannelConfig, http: aiohttp.ClientSession, environ: Mapping[str, str]
) -> Channel:
    kind = KINDS.get(getattr(config, "kind", None))
    if kind is None:
        raise ConfigError(f"通知渠道 {name!r}：未知类型 {getattr(config, 'kind', '?')!r}")
    secrets = Secrets(name, environ)
    channel = kind.builder()(name, config, http, secrets)
    # Whatever a log line may come to hold of them is masked (core/redact.py).
    url = getattr(config, "url", None) or ""
    for value in [*secrets.read, *(part for part in url_secrets(url) if part != url)]:
        register_secret(value)
    return channel
