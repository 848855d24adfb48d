"""Throttles of guessing that cannot be turned against the service: only failures count, each against its own
keys (a user name with a client address, an address, a token prefix), and a key that keeps failing waits longer
(a delay that doubles up to a cap); a key that has not failed never waits. Pure: in memory, per process."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

Key = tuple[str, str]
# Failures are forgotten this long after a key's last one.
FORGET_SECONDS = 3600
# Beyond this many keys the stale ones are swept; beyond MAX_KEYS the longest quiet are dropped, so random names
# or addresses cannot grow memory without bound.
SWEEP_ABOVE = 10_000
MAX_KEYS = 100_000
# An IPv6 client holds a whole /64: its addresses there count as one.
IPV6_PREFIX = 64


@dataclass(frozen=True)
class Backoff:
    """How one kind of key pays for failing: `free` failures cost nothing, then the next attempt waits `first`
    seconds, twice as long after each further failure, at most `cap`."""

    free: int
    first: float
    cap: float

    def delay(self, failures: int) -> float:
        """Seconds to wait after the last of `failures` failures."""
        if failures < self.free:
            return 0.0
        return min(self.cap, self.first * 2.0 ** min(failures - self.free, 60))


class FailureThrottle:
    """Failures per key in memory; `backoffs` names the Backoff of each kind of key (the key's first part);
    `now` returns seconds and comes from the app clock."""

    def __init__(self, backoffs: Mapping[str, Backoff], now: Callable[[], float], forget_seconds: float = FORGET_SECONDS):
        self.backoffs = dict(backoffs)
        self.now = now
        self.forget = forget_seconds
        # key -> (failures, time of the last); kept in order of the last failure (oldest first).
        self._failed: dict[Key, tuple[int, float]] = {}

    def _state(self, key: Key, now: float) -> tuple[int, float]:
        state = self._failed.get(key)
        if state is None:
            return 0, now
        if now - state[1] > self.forget:
            del self._failed[key]
            return 0, now
        return state

    def wait(self, keys: Iterable[Key]) -> int:
        """Whole seconds until every key may try again (0: now)."""
        now = self.now()
        longest = 0.0
        for key in keys:
            failures, last = self._state(key, now)
            if failures:
                longest = max(longest, last + self.backoffs[key[0]].delay(failures) - now)
        return math.ceil(longest) if longest > 0 else 0

    def fail(self, keys: Iterable[Key]) -> None:
        """Count a failure against every key."""
        now = self.now()
        for key in keys:
            failures, _ = self._state(key, now)
            self._failed.pop(key, None)
            self._failed[key] = (failures + 1, now)
        self._bound(now)

    def begin(self, keys: Iterable[Key]) -> int:
        """0 when every key may try now, the attempt then counted as a failure until `forgive`n (so parallel
        guesses cannot overtake the count); else the seconds to wait, and nothing counted."""
        keys = list(keys)
        wait = self.wait(keys)
        if wait == 0:
            self.fail(keys)
        return wait

    def forgive(self, keys: Iterable[Key]) -> None:
        """Take back one failure of every key (an attempt `begin` counted that succeeded)."""
        for key in keys:
            state = self._failed.get(key)
            if state is None:
                continue
            if state[0] <= 1:
                del self._failed[key]
            else:
                self._failed[key] = (state[0] - 1, state[1])

    def clear(self, keys: Iterable[Key]) -> None:
        """Forget every failure of these keys."""
        for key in keys:
            self._failed.pop(key, None)

    def _bound(self, now: float) -> None:
        if len(self._failed) <= SWEEP_ABOVE:
            return
        for key, (_, last) in list(self._failed.items()):
            if now - last <= self.forget:
                break  # ordered by last failure: the rest are newer
            del self._failed[key]
        while len(self._failed) > MAX_KEYS:
            del self._failed[next(iter(self._failed))]


def address_key(address: str) -> str:
    """What an address counts as: itself, or for IPv6 its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def sign_in_keys(username: str, address: str) -> tuple[Key, Key]:
    """The keys a sign-in counts against: the name from this address, and the address."""
    where = address_key(address)
    return ("user", f"{username}\n{where}"), ("address", where)


def sign_in_throttle(free: int, first: float, cap: float, address_free: int, address_cap: float,
                     now: Callable[[], float]) -> FailureThrottle:
    """The sign-in throttle: strict per user name and address, looser per address."""
    return FailureThrottle({"user": Backoff(free, first, cap), "address": Backoff(address_free, first, address_cap)},
                           now)


def retry_text(seconds: int) -> str:
    """When to try again, in Chinese: "40 秒" or, from two minutes, "5 分钟"."""
    return f"{seconds} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"
