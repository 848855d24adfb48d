"""The report's calendar and arithmetic: year and month bounds in the local zone, percentiles, buckets. Pure."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

MIN_YEAR, MAX_YEAR = 2000, 2100
# Time-to-acknowledge buckets in minutes: (label, upper bound inclusive; None = no bound).
ACK_BUCKETS = (("≤5分钟", 5), ("5–15分钟", 15), ("15–30分钟", 30), ("30–60分钟", 60), (">60分钟", None))


def month_starts(year: int, zone: str) -> list[datetime]:
    """The 13 UTC instants where the local months of `year` begin, the last being next New Year."""
    tz = ZoneInfo(zone)
    starts = [datetime(year, month, 1, tzinfo=tz) for month in range(1, 13)]
    starts.append(datetime(year + 1, 1, 1, tzinfo=tz))
    return [moment.astimezone(timezone.utc) for moment in starts]


def nearest_rank(values: list[float], percent: float) -> float | None:
    """The `percent` percentile by nearest rank: the smallest value with at least `percent`% of values at or
    below it (rank ceil(p/100·n), 1-based); None for no values. The median of 1,2,3,4 is 2."""
    if not values:
        return None
    return sorted(values)[nearest_rank_index(len(values), percent)]


def nearest_rank_index(count: int, percent: float) -> int:
    """The 0-based position of the `percent` percentile by nearest rank among `count` sorted values."""
    return max(1, math.ceil(percent / 100 * count)) - 1


def bucket_of(minutes: float) -> int:
    """The index in ACK_BUCKETS of a duration (upper bounds inclusive)."""
    return next(index for index, (_, upper) in enumerate(ACK_BUCKETS) if upper is None or minutes <= upper)


def bucket_counts(minutes: list[float]) -> list[int]:
    """How many durations fall in each of ACK_BUCKETS."""
    counts = [0] * len(ACK_BUCKETS)
    for value in minutes:
        counts[bucket_of(value)] += 1
    return counts


def percent(part: int, whole: int) -> float | None:
    """part / whole as a percentage rounded to 0.1; None when whole is 0."""
    return round(100 * part / whole, 1) if whole else None


def minutes_between(start: datetime, end: datetime) -> float:
    """Minutes from `start` to `end`, never negative (an answer recorded before delivery counts as 0)."""
    return max(0.0, (end - start).total_seconds() / 60)


def local_iso(moment: datetime | None, zone: str) -> str | None:
    """`moment` as ISO 8601 local time to the minute (2025-07-20T08:30+08:00); None stays None."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")


def month_of(moment: datetime, zone: str) -> int:
    """The local month (1..12) of `moment`."""
    return moment.astimezone(ZoneInfo(zone)).month
