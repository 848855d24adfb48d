"""The one decision of where the links the service hands out point (叫应 links in messages, the CAP feed).

[server] public_url when set. Otherwise the address `serve` listens on: the host as given and the port
actually bound (also one the OS chose for port 0); a process that does not listen (`fangxun dispatch`) takes
the configured host and port. A wildcard host (0.0.0.0, ::) is reachable nowhere under that name: the link
carries this machine's first non-loopback address instead, or 127.0.0.1 (::1) when it has none."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fangxun.core.host_address import machine_address
from fangxun.core.service_settings import ServerSettings

# Where the base came from.
PUBLIC_URL = "public_url"  # configured
LISTEN = "listen"  # the address `serve` listens on
CONFIGURED = "configured"  # [server] host and port, in a process that does not listen
GUESSED = "guessed"  # a wildcard host: this machine's address

LOOPBACK_NAMES = frozenset(("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"))


@dataclass(frozen=True)
class PublicBase:
    """The base URL of links (no trailing slash), where it came from, whether it opens only on this machine,
    and the address listened on (or configured) as host:port."""

    url: str
    source: str
    local_only: bool
    listen: str


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip().strip("[]").split("%")[0])
    except ValueError:
        return None


def host_port(host: str, port: int) -> str:
    """host:port, an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def http_origin(host: str, port: int) -> str:
    """http://host:port, an IPv6 address in brackets."""
    return f"http://{host_port(host, port)}"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: links to it open only on this machine."""
    name = host.strip().lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    ip = _ip(name)
    if ip is None:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def is_wildcard(host: str) -> bool:
    """Every interface: "", 0.0.0.0 or ::."""
    ip = _ip(host)
    return host.strip() == "" or (ip is not None and ip.is_unspecified)


def _wildcard_families(host: str, bound: Sequence[str]) -> list[int]:
    """The address families a wildcard listener answers on, IPv4 first."""
    addresses = [address for address in (*bound, host) if address.strip()]
    families = {6 if ":" in address else 4 for address in addresses} or {4, 6}
    return [family for version, family in ((4, socket.AF_INET), (6, socket.AF_INET6)) if version in families]


def public_base(server: ServerSettings, host: str | None = None, port: int | None = None, *,
                bound: Sequence[str] = (), guess: Callable[[int], str | None] = machine_address) -> PublicBase:
    """The base of every link: see the module's note. `host` and `port` are what `serve` listens on (the port
    actually bound) and `bound` the addresses its sockets hold; without them, the configured host and port."""
    source = CONFIGURED if host is None else LISTEN
    host = server.host if host is None else host
    port = server.port if port is None else port
    listen = host_port(host or "0.0.0.0", port)
    if server.public_url:
        return PublicBase(server.public_url, PUBLIC_URL, False, listen)
    if is_wildcard(host) or (bound and all(is_wildcard(address) for address in bound)):
        families = _wildcard_families(host, bound)
        for family in families:
            address = guess(family)
            if address:
                return PublicBase(http_origin(address, port), GUESSED, False, listen)
        loopback = "127.0.0.1" if socket.AF_INET in families else "::1"
        return PublicBase(http_origin(loopback, port), source, True, listen)
    local = is_loopback(host) or (bool(bound) and all(is_loopback(address) for address in bound))
    return PublicBase(http_origin(host.strip("[]"), port), source, local, listen)
