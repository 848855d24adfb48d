"""Times people type (ISO 8601, Beijing time unless they name a zone) and the bounds of a local year. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from fangxun.core.errors import BadInput

BEIJING = timezone(timedelta(hours=8))
ZONE = "Asia/Shanghai"
EXAMPLE = "2026-07-20T06:00:00+08:00"
# The wording of the two failures; {field}, {value} (as given) and {text} (stripped) are filled in.
NOT_TEXT = "{field}：应为时间文本，如 " + EXAMPLE
UNREADABLE = "{field}：时间 {text!r} 无法读取（ISO 8601，如 " + EXAMPLE + "）"
NO_ZONE = "{field}：时间 {text!r} 应带时区，如 " + EXAMPLE
# The years a time typed in may fall in: wide enough for any record, narrow enough that adding days, months or
# years to it never leaves the calendar (which ends in year 9999).
FIRST_YEAR, LAST_YEAR = 1900, 2199
OUT_OF_RANGE = "{field}：时间 {text!r} 超出可用范围（" + f"{FIRST_YEAR} 年至 {LAST_YEAR} 年）"


def parse_local_time(value: object, field: str, *, empty: bool = False, dates: bool = True,
                     naive: bool = True, not_text: str = NOT_TEXT, unreadable: str = UNREADABLE,
                     no_zone: str = NO_ZONE, out_of_range: str = OUT_OF_RANGE) -> datetime | None:
    """An ISO 8601 date-time as aware UTC; BadInput naming `field` (extra {"field": field}) otherwise.

    empty: None or "" gives None (else it, or blank text, is an error worded `not_text`; when empty is
        allowed, blank text is unreadable);
    dates: a 10-character text is read as a calendar date, meaning its midnight;
    naive: a time without a zone is Beijing time (else it is an error worded `no_zone`);
    a time outside the years FIRST_YEAR..LAST_YEAR (the calendar's own ends among them) is worded `out_of_range`.
    """
    if empty and value in (None, ""):
        return None
    if not isinstance(value, str) or (not value.strip() and not empty):
        raise BadInput(not_text.format(field=field, value=value, text=value), extra={"field": field})
    text = value.strip()
    try:
        moment = (datetime.combine(date.fromisoformat(text), time()) if dates and len(text) == 10
                  else datetime.fromisoformat(text))
    except ValueError:
        raise BadInput(unreadable.format(field=field, value=value, text=text), extra={"field": field}) from None
    if moment.tzinfo is None:
        if not naive:
            raise BadInput(no_zone.format(field=field, value=value, text=text), extra={"field": field})
        moment = moment.replace(tzinfo=BEIJING)
    if not year_in_range(moment.year):  # also keeps 0001-01-01+08:00 from overflowing in UTC
        raise BadInput(out_of_range.format(field=field, value=value, text=text), extra={"field": field})
    return moment.astimezone(UTC)


def year_in_range(year: int) -> bool:
    """True for a year a date typed in may fall in (FIRST_YEAR..LAST_YEAR)."""
    return FIRST_YEAR <= year <= LAST_YEAR


def year_bounds(year: int, zone: str | tzinfo = ZONE) -> tuple[datetime, datetime]:
    """[start, end) of the calendar year `year` in `zone` (Beijing time unless told), as UTC instants."""
    local = ZoneInfo(zone) if isinstance(zone, str) else zone
    return (datetime(year, 1, 1, tzinfo=local).astimezone(UTC),
            datetime(year + 1, 1, 1, tzinfo=local).astimezone(UTC))
