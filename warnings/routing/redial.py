"""Redialling an unanswered 叫应 call by colour: the same number again, the next number, the deputy, or escalate now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fangxun.warnings.config import RedialPolicy

# How a call that counts as answered shows in call_attempts: answered, and key 1 among its keys.
ACK_KEY = "1"
# A number's place in a person's order: mobile (the notification's own address), landline, then the deputy.
MOBILE, LANDLINE, DEPUTY = "mobile", "landline", "deputy"


@dataclass(frozen=True)
class Attempt:
    """One call made so far for a notification (its own, or of a redial of it), as call_attempts holds it."""

    to_number: str
    requested_at: datetime
    status: str  # voice_protocol statuses: requested (no result yet), answered, no_answer, busy, …
    keys: str = ""
    result_at: datetime | None = None  # when its result was recorded (our clock)

    @property
    def acknowledged(self) -> bool:
        """Answered with key 1: the one way a call counts as answered."""
        return self.status == "answered" and ACK_KEY in self.keys


@dataclass(frozen=True)
class Number:
    """One way to reach the person, in order: `kind` MOBILE, LANDLINE or DEPUTY, and the address to call."""

    kind: str
    address: str


@dataclass(frozen=True)
class Redial:
    """What to do next: `action` "none" | "wait" | "call" | "escalate"; `at` when (wait: look again then);
    `number` the number to call, `call` its place in the sequence (2 = the first redial)."""

    action: str
    at: datetime | None = None
    number: Number | None = None
    call: int = 0


def call_plan(numbers: list[Number], policy: RedialPolicy) -> list[Number]:
    """Every call of the sequence: the first number once and `redials` times again, then (if the policy
    says so) each further number once."""
    if not numbers:
        return []
    first, *others = numbers
    return [first] * (1 + policy.redials) + (others if policy.other_numbers else [])


def next_call(attempts: list[Attempt], scheduled: int, last_scheduled_at: datetime, numbers: list[Number],
              policy: RedialPolicy, now: datetime) -> Redial:
    """Given the calls made so far (oldest first), the calls scheduled (1 + redials already created, the
    latest at `last_scheduled_at`) and the person's numbers in order: what next.

    Answered without key 1 counts as not answered. A scheduled call with no result after the policy's
    `result_wait_minutes` counts as unanswered. The sequence exhausted, escalation is due at once.
    """
    if any(attempt.acknowledged for attempt in attempts):
        return Redial("none")
    wait = timedelta(minutes=policy.result_wait_minutes)
    if len(attempts) < scheduled:  # the latest scheduled call is not placed yet (quiet hours, retries)
        given_up = last_scheduled_at + wait
        if now < given_up:
            return Redial("wait", given_up)
        ended = given_up
    else:
        latest = attempts[-1]
        if latest.result_at is None:  # ringing, or its result is still to come
            given_up = latest.requested_at + wait
            if now < given_up:
                return Redial("wait", given_up)
            ended = given_up
        else:
            ended = latest.result_at
    plan = call_plan(numbers, policy)
    if scheduled >= len(plan):
        return Redial("escalate", ended)
    at = ended + timedelta(minutes=policy.interval_minutes)
    if now < at:
        return Redial("wait", at)
    return Redial("call", at, plan[scheduled], scheduled + 1)
