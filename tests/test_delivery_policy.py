"""The delivery policy on its own, no database: backoff, what an attempt becomes, 叫应 spans, quiet hours."""

import random
import subprocess
import sys
from datetime import datetime, time, timedelta, timezone

import pytest

from fangxun.warnings.config import QuietHours, Retry, WarningSettings
from fangxun.warnings.delivery.channels.base import ChannelResult
from fangxun.warnings.delivery.policy import DeliveryPolicy, backoff

AT = datetime(2026, 7, 20, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai
NIGHT = datetime(2026, 7, 20, 15, 0, tzinfo=timezone.utc)  # 23:00 in Shanghai
MORNING = datetime(2026, 7, 20, 23, 0, tzinfo=timezone.utc)  # 07:00 next day in Shanghai
RETRY = Retry(max_attempts=4, base_seconds=2, max_seconds=60, jitter=0.2)
OK = ChannelResult(ok=True, retry=False, detail="ok", status=200)
BUSY = ChannelResult(ok=False, retry=True, detail="HTTP 503", status=503)
REFUSED = ChannelResult(ok=False, retry=False, detail="HTTP 400", status=400)


def policy(seed: int = 7, **changes) -> DeliveryPolicy:
    return DeliveryPolicy(WarningSettings(**({"retry": RETRY} | changes)), random.Random(seed))


def test_backoff_stays_within_its_jitter_and_the_cap():
    rng = random.Random(3)
    for attempt in range(1, 12):
        middle = min(60, 2 * 2 ** (attempt - 1))
        delays = [backoff(attempt, 2, 60, 0.2, rng) for _ in range(300)]
        assert middle * 0.8 <= min(delays) and max(delays) <= middle * 1.2
        assert max(delays) - min(delays) > middle * 0.3  # the jitter spreads them
    assert backoff(0, 2, 60, 0.2, random.Random(3)) == backoff(1, 2, 60, 0.2, random.Random(3))


def test_backoff_with_the_same_seed_repeats_itself():
    first = [backoff(n, 2, 60, 0.2, random.Random(11)) for n in range(1, 8)]
    assert first == [backoff(n, 2, 60, 0.2, random.Random(11)) for n in range(1, 8)]


def test_a_delivery_gets_its_colours_ack_deadline():
    assert policy().verdict(OK, 1, "red", False, AT) == ("delivered", None, AT + timedelta(minutes=15))
    assert policy().verdict(OK, 3, "blue", False, AT) == ("delivered", None, AT + timedelta(minutes=120))


def test_a_delivered_all_clear_needs_no_answer_unless_configured():
    assert policy().verdict(OK, 1, "red", True, AT) == ("delivered", None, None)
    assert policy().ack_span("red", True) is None
    asked = policy(all_clear={"ack": True})
    assert asked.verdict(OK, 1, "red", True, AT) == ("delivered", None, AT + timedelta(minutes=15))


def test_a_refusal_fails_at_once():
    assert policy().verdict(REFUSED, 1, "red", False, AT) == ("failed", None, None)


def test_a_retryable_failure_waits_a_backoff_then_dies_after_max_attempts():
    for attempt in range(1, RETRY.max_attempts):
        delay = timedelta(seconds=backoff(attempt, 2, 60, 0.2, random.Random(7)))
        assert policy(seed=7).verdict(BUSY, attempt, "red", False, AT) == ("pending", AT + delay, None)
        assert timedelta(seconds=1.6) <= delay <= timedelta(seconds=72)
    assert policy().verdict(BUSY, RETRY.max_attempts, "red", False, AT) == ("dead", None, None)
    assert policy().verdict(BUSY, RETRY.max_attempts + 3, "red", False, AT) == ("dead", None, None)


def test_a_429_waits_at_least_its_retry_after():
    throttled = ChannelResult(ok=False, retry=True, detail="HTTP 429", status=429, retry_after=600)
    assert policy().verdict(throttled, 1, "red", False, AT) == ("pending", AT + timedelta(seconds=600), None)
    soon = ChannelResult(ok=False, retry=True, detail="HTTP 429", status=429, retry_after=0.5)
    status, next_attempt_at, _ = policy().verdict(soon, 1, "red", False, AT)
    assert status == "pending" and next_attempt_at - AT >= timedelta(seconds=1.6)  # the backoff is longer
    assert policy().verdict(throttled, RETRY.max_attempts, "red", False, AT) == ("dead", None, None)


@pytest.mark.parametrize("colour, minutes", [("red", 15), ("orange", 30), ("yellow", 60), ("blue", 120),
                                             (None, 60)])
def test_ack_span_per_colour(colour, minutes):
    assert policy().ack_span(colour) == timedelta(minutes=minutes)


def test_ack_span_follows_the_configuration():
    changed = policy(ack_deadline_minutes={"red": 5, "uncoloured": 45})
    assert (changed.ack_span("red"), changed.ack_span(None)) == (timedelta(minutes=5), timedelta(minutes=45))


COLOURS = {1: "blue", 2: "yellow", 3: "orange", 4: "red", 5: None}


def test_quiet_hours_release_blue_and_yellow_at_the_end_of_the_night_never_red_or_orange():
    release = policy().releases(NIGHT, COLOURS.get)
    assert [release(warning_id) for warning_id in COLOURS] == [MORNING, MORNING, None, None, None]
    by_day = policy().releases(AT, COLOURS.get)
    assert [by_day(warning_id) for warning_id in COLOURS] == [None] * 5


def test_quiet_hours_follow_the_configured_window():
    off = policy(quiet_hours=QuietHours(start=time(7), end=time(7)))
    assert off.releases(NIGHT, COLOURS.get)(1) is None
    early = policy(quiet_hours=QuietHours(start=time(21), end=time(6)))
    assert early.releases(NIGHT, COLOURS.get)(2) == MORNING - timedelta(hours=1)


def test_a_warnings_release_is_worked_out_once():
    asked = []
    release = policy().releases(NIGHT, lambda warning_id: asked.append(warning_id) or "blue")
    assert {release(9) for _ in range(100)} == {MORNING}
    assert asked == [9]


def test_the_policy_imports_no_adapter():
    code = ("import sys; import fangxun.warnings.delivery.policy; "
            "print(sorted(m for m in ('aiohttp', 'sqlalchemy', 'apscheduler', 'folium', 'jinja2') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"
