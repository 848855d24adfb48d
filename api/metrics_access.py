"""Who may read /metrics without credentials: a peer whose address is in `[monitoring] metrics_allow` (the
Prometheus server). Everyone else shows a token or a session like any reader of the API (auth.py)."""

from __future__ import annotations

import functools
import ipaddress

from aiohttp import web

from fangxun.api.keys import SETTINGS

METRICS_PATH = "/metrics"


@functools.cache
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in allowed)


def peer_address(request: web.Request) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of the socket's other end (never a forwarded header: anyone can send one)."""
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    if not peer or not isinstance(peer, tuple):
        return None
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def open_metrics(request: web.Request) -> bool:
    """True for a /metrics request from an allowed address."""
    if request.path != METRICS_PATH:
        return False
    allowed = _networks(request.app[SETTINGS].monitoring.metrics_allow)
    address = peer_address(request) if allowed else None
    return address is not None and any(address in network for network in allowed)
