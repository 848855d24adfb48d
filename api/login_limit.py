"""Sign-in rate limit: at most N attempts per user name and per client address in a sliding window."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

# Beyond this many tracked keys, stale ones are swept so random user names cannot grow memory.
SWEEP_ABOVE = 10_000


class LoginLimiter:
    """Counts attempts in memory (per process); `now` returns seconds and comes from the app clock."""

    def __init__(self, attempts: int, window_seconds: float, now: Callable[[], float]):
        self.attempts = attempts
        self.window = window_seconds
        self.now = now
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._seen.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._seen[key]
        return stamps

    def retry_after(self, keys: Iterable[tuple[str, str]]) -> int:
        """Seconds until every key allows another attempt (0 when allowed now)."""
        now = self.now()
        wait = 0.0
        for key in keys:
            stamps = self._recent(key, now)
            if len(stamps) >= self.attempts:
                wait = max(wait, stamps[len(stamps) - self.attempts] + self.window - now)
        return max(1, int(wait + 0.999)) if wait > 0 else 0

    def begin(self, keys: Iterable[tuple[str, str]]) -> float | None:
        """Count an attempt against every key and return its stamp, or None when a key is over the limit.

        The attempt is counted before the password is checked, so parallel guesses cannot overtake the count.
        """
        keys = list(keys)
        if self.retry_after(keys):
            return None
        now = self.now()
        if len(self._seen) > SWEEP_ABOVE:
            for key in list(self._seen):
                self._recent(key, now)
        for key in keys:
            self._seen.setdefault(key, deque()).append(now)
        return now

    def forgive(self, keys: Iterable[tuple[str, str]], stamp: float) -> None:
        """Take back a successful attempt so only failures count (an office behind one address can sign in)."""
        for key in keys:
            stamps = self._seen.get(key)
            if stamps and stamp in stamps:
                stamps.remove(stamp)
                if not stamps:
                    del self._seen[key]
