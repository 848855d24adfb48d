"""Delivery policy, pure: what one attempt's result becomes (delivered with a 叫应 deadline, tried again
after a backoff, failed, dead) and when a warning's rows may go out in quiet hours.

The rules themselves are routing's (`ack_span`, `release_time`); this room applies them to the rows the
pump sends, each value worked out once per colour or warning: a city-wide warning is ten thousand rows
of one colour. No I/O, no clock: the caller says what time it is.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from fangxun.warnings.config import QuietHours, Retry, WarningSettings
from fangxun.warnings.delivery.channels.base import ChannelResult
from fangxun.warnings.routing.deadlines import ack_span
from fangxun.warnings.routing.quiet_hours import release_time

# What became of an attempt: (status, next_attempt_at, ack_deadline), a plain tuple (one per row sent).
Verdict = tuple[str, datetime | None, datetime | None]


def backoff(attempt: int, base: float, cap: float, jitter: float, rng: random.Random,
            retry_after: float | None = None) -> float:
    """Seconds before try `attempt + 1`: base * 2**(attempt - 1), capped, ± jitter; never before Retry-After."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    delay *= 1 + jitter * (2 * rng.random() - 1)
    return max(delay, retry_after or 0.0)


class DeliveryPolicy:
    """The `[warnings]` rules of delivery for one dispatcher (its own random source for the jitter)."""

    def __init__(self, config: WarningSettings, rng: random.Random):
        self.retry: Retry = config.retry
        self.quiet: QuietHours = config.quiet_hours
        self.rng = rng
        self._config = config
        # (colour, all-clear) -> time allowed to acknowledge, None: no answer asked
        self._spans: dict[tuple[str | None, bool], timedelta | None] = {}

    def verdict(self, result: ChannelResult, attempt: int, colour: str | None, all_clear: bool,
                at: datetime) -> Verdict:
        """What try number `attempt` of a notification of a `colour` warning (an all-clear or not) becomes at `at`."""
        if result.ok:
            # An all-clear (解除) only informs unless configured otherwise: then it has no deadline.
            span = self.ack_span(colour, all_clear)
            return "delivered", None, None if span is None else at + span
        if not result.retry:
            return "failed", None, None
        retry = self.retry
        if attempt >= retry.max_attempts:
            return "dead", None, None
        delay = backoff(attempt, retry.base_seconds, retry.max_seconds, retry.jitter, self.rng, result.retry_after)
        return "pending", at + timedelta(seconds=delay), None

    def ack_span(self, colour: str | None, all_clear: bool = False) -> timedelta | None:
        """How long a recipient has to acknowledge a delivered notification of `colour`; None: no answer asked."""
        key = (colour, all_clear)
        if key not in self._spans:
            self._spans[key] = ack_span(colour, self._config, all_clear)
        return self._spans[key]

    def releases(self, now: datetime, colour_of: Callable[[int], str | None]) -> Callable[[int], datetime | None]:
        """Per warning (`colour_of` its id; worked out once a warning): when its rows due at `now` may go
        out in quiet hours, or None: now (red and orange, and uncoloured, never wait)."""
        quiet = self.quiet
        known: dict[int, datetime | None] = {}

        def release(warning_id: int) -> datetime | None:
            if warning_id not in known:
                known[warning_id] = release_time(colour_of(warning_id), now, quiet)
            return known[warning_id]

        return release
