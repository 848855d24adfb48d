"""Quiet hours: blue and yellow wait for the window's end; red, orange and uncoloured never wait."""

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from fangxun.warnings.config import QuietHours
from fangxun.warnings.routing.quiet_hours import release_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours()  # 22:00-07:00 Asia/Shanghai


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize("now, release", [
    (local(20, 23, 30), local(21, 7)),  # before midnight: tomorrow's 07:00
    (local(21, 2, 15), local(21, 7)),  # after midnight: today's 07:00
    (local(20, 22, 0), local(21, 7)),  # the start belongs to the window
    (local(21, 6, 59), local(21, 7)),
])
def test_inside_the_window_across_midnight(now, release):
    for colour in ("blue", "yellow"):
        held = release_time(colour, now, NIGHT)
        assert held == release and held.tzinfo == timezone.utc


@pytest.mark.parametrize("now", [local(21, 7, 0), local(21, 12, 0), local(21, 21, 59)])
def test_outside_the_window(now):
    assert release_time("blue", now, NIGHT) is None


@pytest.mark.parametrize("colour", ["red", "orange", None])
def test_red_orange_and_uncoloured_are_never_held(colour):
    assert release_time(colour, local(21, 2), NIGHT) is None


def test_now_in_utc_is_read_in_the_configured_zone():
    # 15:30 UTC is 23:30 in Shanghai.
    now = datetime(2026, 7, 20, 15, 30, tzinfo=timezone.utc)
    assert release_time("yellow", now, NIGHT) == datetime(2026, 7, 20, 23, 0, tzinfo=timezone.utc)


def test_window_within_one_day():
    siesta = QuietHours(start="12:00", end="14:30")
    assert release_time("blue", local(21, 13), siesta) == local(21, 14, 30)
    assert release_time("blue", local(21, 15), siesta) is None
    assert release_time("blue", local(21, 11), siesta) is None


def test_other_zone():
    utc_night = QuietHours(start="22:00", end="06:00", timezone="UTC")
    now = datetime(2026, 7, 20, 23, 0, tzinfo=timezone.utc)
    assert release_time("blue", now, utc_night) == datetime(2026, 7, 21, 6, 0, tzinfo=timezone.utc)


def test_start_equal_to_end_turns_the_window_off():
    assert release_time("blue", local(21, 2), QuietHours(start="00:00", end="00:00")) is None


def test_window_end_across_a_dst_change():
    # Berlin moves to summer time at 02:00 on 2026-03-29: the held message still goes at 07:00 local.
    berlin = QuietHours(start="22:00", end="07:00", timezone="Europe/Berlin")
    now = datetime(2026, 3, 28, 23, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert release_time("blue", now, berlin) == datetime(2026, 3, 29, 5, 0, tzinfo=timezone.utc)


def test_config_parses_clock_times():
    assert QuietHours(start="21:30").start == time(21, 30)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        release_time("blue", datetime(2026, 7, 21, 2), NIGHT)
