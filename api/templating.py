"""The one Jinja2 environment of the pages: templates in api/templates/ (the document shell from the report's),
autoescaped and strict, with the filters of the repeated formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fangxun.geo.map_assets import STATIC_URL
from fangxun.report.templating import environment
from fangxun.warnings.vocabulary import COLOUR_LABELS


def local_time(moment: datetime | str | None, zone: str) -> str:
    """`2026-07-20 16:05` in the service's zone (Beijing time), from an aware datetime or its ISO text; blank for
    None."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def duration_text(seconds: float) -> str:
    """A wait in Chinese: `42 分钟`, `2 小时 5 分钟`, `1 天 3 小时`."""
    minutes = max(0, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    return f"{minutes} 分钟"


def figure_value(value: float | int) -> str:
    """120, or 35.5 for a loss in 万元 (two decimals at most, no trailing zeros)."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def user_name(principal_name: str) -> str:
    """A signed-in user by their user name; tokens and the command line as recorded."""
    return principal_name.removeprefix("user:")


def colour_label(colour: str | None) -> str:
    """红色 for red, blank for no colour."""
    return COLOUR_LABELS.get(colour or "", "")


ENVIRONMENT = environment("fangxun.api", "fangxun.report", filters={
    "local_time": local_time, "duration": duration_text, "figure": figure_value, "user_name": user_name,
    "colour_label": colour_label})
ENVIRONMENT.globals["STATIC_URL"] = STATIC_URL


def render(name: str, **context) -> str:
    """The page template `name` filled in with `context`."""
    return ENVIRONMENT.get_template(name).render(**context)
