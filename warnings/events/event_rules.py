"""Pure rules of events: which warning opens one, its name and start, and when a quiet event closes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fangxun.core.times import BEIJING, parse_local_time
from fangxun.warnings.events.config import EventKindSettings
from fangxun.warnings.vocabulary import COLOURS

ZONE = ZoneInfo("Asia/Shanghai")
# Only real warnings make events: Test, System and Draft messages, and drills (Exercise), are not
# weather processes the bureau answered.
GROUPED_CAP_STATUSES = ("Actual",)
_CLOSED_STATUSES = ("superseded", "cancelled", "expired")
_ORDINALS = "一二三四五六七八九十"


def colour_at_least(colour: str | None, minimum: str) -> bool:
    """True when `colour` is `minimum` or stronger (blue < yellow < orange < red); no colour never is."""
    return colour in COLOURS and COLOURS.index(colour) >= COLOURS.index(minimum)


def opens_event(kind: EventKindSettings, event: str, colour: str | None, msg_type: str, status: str) -> bool:
    """Whether a warning may open an event of `kind` when none is open: an active Alert or Update of an
    opening type, at least the opening colour."""
    return (msg_type in ("Alert", "Update") and status == "active" and event in kind.open_events
            and colour_at_least(colour, kind.open_min_colour))


def local_day(moment: datetime, zone: ZoneInfo = ZONE) -> date:
    """The calendar day of `moment` in Beijing time."""
    return moment.astimezone(zone).date()


def start_of(onset: datetime | None, sent: datetime, received: datetime) -> datetime:
    """When an event opened by a warning starts: its onset (or sent), but never after it was received."""
    return min(onset or sent, received)


def ordinal(number: int) -> str:
    """一, 二 … 十, then digits (event names rarely need more than 二)."""
    return _ORDINALS[number - 1] if 1 <= number <= len(_ORDINALS) else str(number)


def event_name(label: str, day: date, taken: set[str]) -> str:
    """"2026年7月20日降雨过程", with "（二）", "（三）"… when that name is already used."""
    base = f"{day.year}年{day.month}月{day.day}日{label}"
    if base not in taken:
        return base
    number = 2
    while f"{base}（{ordinal(number)}）" in taken:
        number += 1
    return f"{base}（{ordinal(number)}）"


@dataclass(frozen=True)
class LinkedWarning:
    """What the quiet rule needs of one warning of an event."""

    status: str
    closed_at: datetime | None
    expires: datetime | None


def warning_end(warning: LinkedWarning) -> datetime | None:
    """When a warning stopped being in force: its expiry if it ran out (the job closes it a little later),
    else when it was superseded or cancelled; None while it is active."""
    if warning.status not in _CLOSED_STATUSES:
        return None
    if warning.status == "expired" and warning.expires is not None:
        return min(warning.expires, warning.closed_at) if warning.closed_at else warning.expires
    return warning.closed_at or warning.expires


def quiet_close_at(warnings: list[LinkedWarning], started_at: datetime, quiet_hours: float,
                   now: datetime) -> datetime | None:
    """The end time of an event that should close now because it has been quiet, or None.

    It closes when it has warnings, none is active any more, and the last of them ended at least
    `quiet_hours` before `now`; it ends when its last warning ended (never before it started).
    An event with no warnings (opened by hand) never closes by itself.
    """
    if not warnings:
        return None
    ends = [warning_end(warning) for warning in warnings]
    if any(end is None for end in ends):
        return None
    last = max(ends)
    if now - last < timedelta(hours=quiet_hours):
        return None
    return max(last, started_at)


def parse_time(value: object, field: str) -> datetime:
    """An ISO 8601 date-time (a bare date is its midnight; no zone means Beijing time), as aware UTC."""
    return parse_local_time(value, field)


def shown(moment: datetime | None) -> str | None:
    """ISO 8601 in Beijing time (+08:00), whole seconds; None stays None."""
    return None if moment is None else moment.astimezone(BEIJING).isoformat(timespec="seconds")
