"""Who is on duty when: shift windows from a roster day and its 班次, around a local shift-change time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

CITY_DESK = "city"
CITY_DESK_NAME = "市防指值班室"
# 班次 -> hours after the day's shift change it starts and ends (全天: one 24-hour duty).
SHIFTS = {"全天": (0, 24), "白班": (0, 12), "夜班": (12, 24)}
SHIFT_ALIASES = {"": "全天", "全日": "全天", "24小时": "全天", "日班": "白班", "晚班": "夜班"}


@dataclass(frozen=True)
class DutyShift:
    """One roster line: a desk's duty day and 班次, its 值班员 and 带班领导 with phones."""

    desk: str
    duty_date: date
    shift: str
    officer_name: str
    officer_phone: str
    leader_name: str
    leader_phone: str


@dataclass(frozen=True)
class Gap:
    """A stretch of time (aware UTC) when a desk has nobody on duty."""

    desk: str
    start: datetime
    end: datetime


def parse_shift_change(text: str) -> time:
    """"08:00" as a time; ValueError in Chinese otherwise."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f'交班时间 "{text}" 应为 HH:MM，如 08:00') from None


def canonical_shift(text: str) -> str:
    """The 班次 as one of SHIFTS; ValueError naming the choices otherwise."""
    value = text.strip()
    value = SHIFT_ALIASES.get(value, value)
    if value not in SHIFTS:
        raise ValueError(f'未知班次 "{text}"（可选 {"、".join(SHIFTS)}，空为全天）')
    return value


def shift_window(duty_date: date, shift: str, change: time, zone: str) -> tuple[datetime, datetime]:
    """The aware UTC start and end of a 班次 on a duty day (the day starts at the local shift change)."""
    start_hours, end_hours = SHIFTS[shift]
    local = datetime.combine(duty_date, change, tzinfo=ZoneInfo(zone))
    return ((local + timedelta(hours=start_hours)).astimezone(timezone.utc),
            (local + timedelta(hours=end_hours)).astimezone(timezone.utc))


def duty_date_at(at: datetime, change: time, zone: str) -> date:
    """The duty day whose shifts cover the moment `at` (before the shift change: the day before)."""
    local = at.astimezone(ZoneInfo(zone))
    day = local.date()
    return day if local.time() >= change else day - timedelta(days=1)


def on_duty(shifts: list[DutyShift], desk: str, at: datetime, change: time, zone: str) -> DutyShift | None:
    """The roster line of `desk` covering `at`, or None when nobody is on duty."""
    for entry in shifts:
        if entry.desk != desk:
            continue
        start, end = shift_window(entry.duty_date, entry.shift, change, zone)
        if start <= at < end:
            return entry
    return None


def gaps(shifts: list[DutyShift], desks: list[str], start: datetime, end: datetime,
         change: time, zone: str) -> list[Gap]:
    """The stretches of [start, end) when each desk has nobody on duty, merged, in desk order."""
    found: list[Gap] = []
    for desk in desks:
        windows = sorted(shift_window(s.duty_date, s.shift, change, zone) for s in shifts if s.desk == desk)
        cursor = start
        for window_start, window_end in windows:
            if window_end <= cursor:
                continue
            if window_start > cursor:
                found.append(Gap(desk, cursor, min(window_start, end)))
            cursor = max(cursor, window_end)
            if cursor >= end:
                break
        if cursor < end:
            found.append(Gap(desk, cursor, end))
    return [gap for gap in found if gap.start < gap.end]


def overlapping_shift(shift: str, others: list[str]) -> str | None:
    """A 班次 among `others` of the same day that overlaps `shift`, or None."""
    low, high = SHIFTS[shift]
    for other in others:
        other_low, other_high = SHIFTS[other]
        if low < other_high and other_low < high:
            return other
    return None
