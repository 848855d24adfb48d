"""Weather warnings received in a year, and the 叫应 figures of their notifications (and of decision notices)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.config import COLOURS
from fangxun.warnings.intake import RESPONSE_SOURCE
from fangxun.warnings.report.period import bucket_counts, minutes_between, nearest_rank, percent
from fangxun.warnings.tables import Notification, Warning

N = Notification
# Test exercises count with real warnings; drafts, system messages and the like do not.
COUNTED_STATUSES = ("Actual", "Exercise")
ISSUED = ("Alert", "Update")  # a Cancel (解除) ends a warning: it is counted apart, not as one issued
NO_COLOUR = "none"


def weather_warnings(start: datetime, end: datetime) -> list:
    """SQL conditions: weather warnings received in [start, end), of any message type."""
    return [Warning.received_at >= start, Warning.received_at < end, Warning.source != RESPONSE_SOURCE,
            Warning.cap_status.in_(COUNTED_STATUSES)]


def decision_notices(start: datetime, end: datetime) -> list:
    """SQL conditions: notices of response decisions sent in [start, end)."""
    return [Warning.received_at >= start, Warning.received_at < end, Warning.source == RESPONSE_SOURCE]


async def warning_figures(session: AsyncSession, months: list[datetime]) -> dict:
    """Warnings by type and colour and per local month; `months` are the 13 month starts of the year."""
    month = case(*[(Warning.received_at < months[index + 1], index + 1) for index in range(11)], else_=12)
    # Grouped over a subquery: PostgreSQL cannot match a CASE with bound values in GROUP BY.
    rows_of = (select(Warning.event, Warning.colour, Warning.msg_type, month.label("month"))
               .where(*weather_warnings(months[0], months[-1])).subquery())
    keys = (rows_of.c.event, rows_of.c.colour, rows_of.c.msg_type, rows_of.c.month)
    by_event: dict[str, dict[str, int]] = {}
    by_colour = dict.fromkeys((*COLOURS, NO_COLOUR), 0)
    by_month = [0] * 12
    cancels = 0
    for event, colour, msg_type, month_number, count in await session.execute(
            select(*keys, func.count()).group_by(*keys)):
        if msg_type not in ISSUED:
            cancels += count
            continue
        colour = colour if colour in COLOURS else NO_COLOUR
        counts = by_event.setdefault(event, {**dict.fromkeys((*COLOURS, NO_COLOUR), 0), "total": 0})
        counts[colour] += count
        counts["total"] += count
        by_colour[colour] += count
        by_month[month_number - 1] += count
    ordered = dict(sorted(by_event.items(), key=lambda item: (-item[1]["total"], item[0])))
    return {"total": sum(by_month), "cancels": cancels, "by_event": ordered, "by_colour": by_colour,
            "by_month": by_month}


def _sum(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def notification_figures(session: AsyncSession, warnings_of) -> dict:
    """叫应 figures of the notifications of the warnings selected by the conditions `warnings_of`.

    First notices (purpose "notice") give sent, delivered, acknowledged, the rate (acknowledged / delivered)
    and the times to acknowledge (acked_at - delivered_at; median and 90th percentile by nearest rank);
    reminders and escalations are the rows of those purposes.
    """
    ids = select(Warning.id).where(*warnings_of)
    acked = N.acked_at.is_not(None)
    rows = await session.execute(
        select(N.purpose, func.count(), _sum(or_(N.attempts > 0, N.delivered_at.is_not(None))),
               _sum(N.delivered_at.is_not(None)), _sum(acked), _sum(and_(acked, N.acked_late.is_(True))),
               _sum(N.status == "failed"), _sum(N.status == "dead"))
        .where(N.warning_id.in_(ids)).group_by(N.purpose))
    by_purpose = {row[0]: row[1:] for row in rows}
    notices = by_purpose.get("notice", (0,) * 7)
    # Only the two instants of each answered notice are loaded: a percentile needs the values.
    minutes = [minutes_between(delivered, answered) for delivered, answered in await session.execute(
        select(N.delivered_at, N.acked_at).where(N.warning_id.in_(ids), N.purpose == "notice",
                                                 N.delivered_at.is_not(None), acked))]
    median, p90 = nearest_rank(minutes, 50), nearest_rank(minutes, 90)
    return {
        "notices": notices[0], "sent": notices[1], "delivered": notices[2], "acknowledged": notices[3],
        "ack_rate": percent(notices[3], notices[2]), "acknowledged_late": notices[4],
        "failed": notices[5], "dead": notices[6],
        "timed": len(minutes),
        "median_ack_minutes": None if median is None else round(median, 1),
        "p90_ack_minutes": None if p90 is None else round(p90, 1),
        "ack_histogram": bucket_counts(minutes),
        "reminders": by_purpose.get("reminder", (0,))[0],
        "escalations": by_purpose.get("escalation", (0,))[0],
    }
