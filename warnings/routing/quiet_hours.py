"""Quiet hours: blue and yellow notifications wait for the end of the night window; red and orange never do."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from fangxun.warnings.config import QuietHours

HELD_COLOURS = ("blue", "yellow")


def _at(day: datetime, clock) -> datetime:
    """`day`'s date at local `clock`, normalised through UTC so a DST gap cannot yield a missing time."""
    local = day.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
    return local.astimezone(timezone.utc).astimezone(local.tzinfo)


def release_time(colour: str | None, now: datetime, quiet: QuietHours) -> datetime | None:
    """When a notification of `colour` due at `now` may go out (aware UTC), or None: send now."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("naive datetime")
    # Uncoloured warnings are not held: their severity is unknown, so they are treated as urgent.
    if colour not in HELD_COLOURS or quiet.start == quiet.end:
        return None
    local = now.astimezone(ZoneInfo(quiet.timezone))
    clock = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= clock < quiet.end
        end_day = local
    else:  # the window spans midnight, e.g. 22:00-07:00
        inside = clock >= quiet.start or clock < quiet.end
        end_day = local + timedelta(days=1) if clock >= quiet.start else local
    if not inside:
        return None
    return _at(end_day, quiet.end).astimezone(timezone.utc)
