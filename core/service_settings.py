"""The sections of the infrastructure: sign-in sessions and throttles (auth), the server's address and proxies
(server), who may read the metrics and when a part is stale (monitoring)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from fangxun.core.settings import Strict


class AuthSettings(Strict):
    session_hours: float = Field(12, gt=0, le=24 * 30)
    # Sign-in throttle (api/login_limit.py): only failures count; per user name and client address, then per
    # client address (looser), each failure beyond the free ones makes the next attempt wait twice as long.
    login_free_failures: int = Field(5, ge=1)
    login_first_delay_seconds: float = Field(5, gt=0)
    login_max_delay_seconds: float = Field(300, gt=0)
    address_free_failures: int = Field(30, ge=1)
    address_max_delay_seconds: float = Field(900, gt=0)


def ip_networks(value: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or networks as written (trimmed); a ValueError names the first that is neither."""
    for entry in value:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} 不是 IP 地址或网段（如 127.0.0.1、10.0.0.0/8）") from None
    return tuple(entry.strip() for entry in value)


class ServerSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # The address people reach the service at (ack links, the CAP feed); empty: the address `serve` listens on
    # (core/public_base.py decides).
    public_url: str = ""
    # Proxies whose X-Forwarded-For (or Forwarded) names the client: addresses or networks; none by default, so
    # a header sent by anyone else is ignored (api/client_address.py).
    trusted_proxies: tuple[str, ...] = ()
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return ip_networks(value)

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and (not value.startswith(("http://", "https://")) or len(value.split("/", 3)[2]) == 0):
            raise ValueError("应为 http:// 或 https:// 开头的地址，如 https://fangxun.example.gov.cn，或留空")
        return value


class MonitoringSettings(Strict):
    """`[monitoring]`: who may read /metrics without credentials, and when /api/ready calls a part stale."""

    # Addresses or networks that may read /metrics without a token (the socket's peer: a proxy's clients are not
    # told apart, so never list a reverse proxy's address here). Everyone else needs credentials (any role).
    metrics_allow: tuple[str, ...] = ()
    # A dispatcher heartbeat older than this: /api/ready answers 503.
    heartbeat_stale_seconds: float = Field(30, ge=2, le=3600)
    # A feed not read successfully for this many of its intervals (and at least 2 minutes) is stale.
    feed_stale_intervals: int = Field(3, ge=1, le=1000)

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return ip_networks(value)
