"""Pure event rules: what opens an event, its name and start, and when a quiet event closes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fangxun.core.errors import BadInput
from fangxun.core.times import year_bounds
from fangxun.warnings.events.config import EventSettings
from fangxun.warnings.events.event_rules import (LinkedWarning, colour_at_least, event_name, local_day, opens_event,
                                                 parse_time, quiet_close_at, shown, start_of, warning_end)

RAIN = EventSettings().kinds["rainfall"]
T0 = datetime(2026, 7, 20, 0, 0, tzinfo=UTC)  # 08:00 in Beijing


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


@pytest.mark.parametrize("colour, minimum, expected", [
    ("yellow", "yellow", True), ("red", "yellow", True), ("blue", "yellow", False), (None, "blue", False),
    ("orange", "red", False), ("purple", "blue", False)])
def test_colours_are_ordered_blue_yellow_orange_red(colour, minimum, expected):
    assert colour_at_least(colour, minimum) is expected


@pytest.mark.parametrize("event, colour, msg_type, status, expected", [
    ("暴雨", "yellow", "Alert", "active", True),
    ("暴雨", "red", "Update", "active", True),
    ("暴雨", "blue", "Alert", "active", False),      # below the opening colour
    ("大风", "red", "Alert", "active", False),       # not an opening type
    ("暴雨", "red", "Cancel", "cancelled", False),   # a 解除 opens nothing
    ("暴雨", "red", "Alert", "expired", False),      # no longer in force when it arrived
])
def test_only_an_active_alert_or_update_of_an_opening_type_and_colour_opens(event, colour, msg_type, status,
                                                                            expected):
    assert opens_event(RAIN, event, colour, msg_type, status) is expected


def test_the_name_is_the_beijing_date_and_the_label_with_a_number_when_taken():
    day = local_day(datetime(2026, 7, 19, 17, 0, tzinfo=UTC))  # 01:00 on the 20th in Beijing
    assert day == date(2026, 7, 20)
    assert event_name("降雨过程", day, set()) == "2026年7月20日降雨过程"
    assert event_name("降雨过程", day, {"2026年7月20日降雨过程"}) == "2026年7月20日降雨过程（二）"
    taken = {"2026年7月20日降雨过程", "2026年7月20日降雨过程（二）"}
    assert event_name("降雨过程", day, taken) == "2026年7月20日降雨过程（三）"
    assert event_name("雨雪冰冻", day, taken) == "2026年7月20日雨雪冰冻"


def test_an_event_starts_at_the_onset_but_never_after_the_warning_arrived():
    assert start_of(hours(2), hours(0), hours(1)) == hours(1)   # rain expected later: starts on receipt
    assert start_of(hours(-1), hours(0), hours(1)) == hours(-1)  # already raining
    assert start_of(None, hours(0), hours(1)) == hours(0)


def test_a_warning_ends_at_its_expiry_or_when_superseded_or_cancelled():
    assert warning_end(LinkedWarning("active", None, hours(5))) is None
    # the expiry job closes a minute late: the warning ended at its expiry
    assert warning_end(LinkedWarning("expired", hours(5) + timedelta(minutes=1), hours(5))) == hours(5)
    # arrived already expired: closed on receipt, which is after the expiry
    assert warning_end(LinkedWarning("expired", hours(7), hours(5))) == hours(5)
    assert warning_end(LinkedWarning("cancelled", hours(3), hours(5))) == hours(3)
    assert warning_end(LinkedWarning("superseded", hours(2), hours(5))) == hours(2)


def test_a_quiet_event_closes_at_its_last_warning_end_once_the_quiet_hours_have_passed():
    ended = [LinkedWarning("superseded", hours(2), hours(6)), LinkedWarning("expired", hours(9), hours(9)),
             LinkedWarning("cancelled", hours(4), None)]
    assert quiet_close_at(ended, hours(0), 6, hours(14)) is None
    assert quiet_close_at(ended, hours(0), 6, hours(15) - timedelta(seconds=1)) is None
    assert quiet_close_at(ended, hours(0), 6, hours(15)) == hours(9)
    assert quiet_close_at(ended, hours(0), 6, hours(40)) == hours(9)
    assert quiet_close_at(ended, hours(0), 0, hours(9)) == hours(9)


def test_an_event_with_a_warning_in_force_or_with_no_warnings_stays_open():
    ended = [LinkedWarning("expired", hours(1), hours(1)), LinkedWarning("active", None, hours(3))]
    assert quiet_close_at(ended, hours(0), 6, hours(100)) is None
    assert quiet_close_at([], hours(0), 6, hours(100)) is None


def test_an_event_never_ends_before_it_started():
    # a warning linked by hand that ended before the event was opened by hand
    assert quiet_close_at([LinkedWarning("expired", hours(1), hours(1))], hours(3), 6, hours(10)) == hours(3)


def test_a_year_is_the_beijing_calendar_year():
    start, end = year_bounds(2026)
    assert start == datetime(2025, 12, 31, 16, tzinfo=UTC) and end == datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_times_are_read_with_beijing_as_the_default_zone_and_shown_in_beijing_time():
    assert parse_time("2026-07-20T08:00:00+08:00", "at") == T0
    assert parse_time("2026-07-20T08:00", "at") == T0
    assert parse_time("2026-07-20", "at") == T0 - timedelta(hours=8)
    assert shown(T0) == "2026-07-20T08:00:00+08:00" and shown(None) is None


@pytest.mark.parametrize("value", ["yesterday", "", 20260720, None, "2026-13-01"])
def test_an_unreadable_time_names_the_field(value):
    with pytest.raises(BadInput) as caught:
        parse_time(value, "started_at")
    assert caught.value.extra == {"field": "started_at"} and caught.value.detail.startswith("started_at：")
