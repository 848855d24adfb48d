"""This machine's address as others on the network reach it; nothing is sent to find it."""

from __future__ import annotations

import ipaddress
import socket

# Targets only routed to, never reached: connect() on a UDP socket picks the route's source address and sends
# nothing. A documentation address follows the default route; the private ones cover an intranet without one.
_PROBES = {socket.AF_INET: ("192.0.2.1", "10.0.0.1", "172.16.0.1", "192.168.0.1"),
           socket.AF_INET6: ("2001:db8::1", "fd00::1")}


def reachable_address(address: str) -> bool:
    """Whether others could reach this machine at `address`: not loopback, link-local, unspecified or multicast."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _routed_source(family: int) -> str | None:
    for target in _PROBES[family]:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect((target, 9))
                address = probe.getsockname()[0]
        except OSError:
            continue
        if reachable_address(address):
            return address
    return None


def _named(family: int) -> str | None:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM)
    except OSError:
        return None
    return next((info[4][0] for info in infos if reachable_address(info[4][0])), None)


def machine_address(family: int = socket.AF_INET) -> str | None:
    """The first non-loopback address of `family` (AF_INET or AF_INET6): the source address of the routes, else
    one the host name resolves to; None when the machine has none."""
    return _routed_source(family) or _named(family)
