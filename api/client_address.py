"""Who is on the other end: the connection's peer, or the client a trusted proxy says it forwarded.

X-Forwarded-For and Forwarded are believed only from the proxies of `[server] trusted_proxies` (none by default):
the chain is read from the right, each hop accepted only while the one that wrote it is trusted, so a client
cannot name itself by sending the header (the proxy appends, the client's own entries stay to the left)."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable

from aiohttp import web

from fangxun.api.keys import SETTINGS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# RFC 7239: for=192.0.2.60, for="[2001:db8::1]:4711", for=unknown, for=_hidden
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


@functools.lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of `[server] trusted_proxies` (already checked when the settings were loaded)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def parse_ip(text: str | None) -> IPAddress | None:
    """The address in a peer or a forwarded hop ("192.0.2.1", "192.0.2.1:80", "[2001:db8::1]:80", quoted);
    an IPv4 address mapped into IPv6 as IPv4; None for anything else ("unknown", "_hidden", garbage)."""
    value = (text or "").strip().strip('"').strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_hops(values: Iterable[str], header: str) -> list[str]:
    """The hops a forwarded header lists, leftmost (the original client) first, over all its lines."""
    hops: list[str] = []
    for value in values:
        if header == "forwarded":
            hops += [match.group(1) for element in value.split(",") for match in [_FOR.search(element)] if match]
        else:
            hops += [hop.strip() for hop in value.split(",") if hop.strip()]
    return hops


def resolve_client(peer: str | None, hops: list[str], trusted: tuple[Network, ...]) -> str:
    """The client's address: from the peer leftwards through the hops while the current one is a trusted proxy;
    a hop that is no address stops the walk at the proxy that wrote it."""
    current = parse_ip(peer)
    if current is None:
        return peer or ""
    for hop in reversed(hops):
        if not any(current in network for network in trusted):
            break
        previous = parse_ip(hop)
        if previous is None:
            break
        current = previous
    return str(current)


def client_address(request: web.Request) -> str:
    """The address of whoever sent `request`, as the throttles count it."""
    server = request.app[SETTINGS].server
    trusted = trusted_networks(server.trusted_proxies)
    if not trusted:
        return resolve_client(request.remote, [], trusted)
    header = server.forwarded_header
    return resolve_client(request.remote, forwarded_hops(request.headers.getall(header, ()), header), trusted)
