"""Weather warnings received in a year, and the 叫应 figures of their notifications (and of decision notices)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Numeric, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.report.period import ACK_BUCKETS, nearest_rank_index, percent
from fangxun.warnings.acks.ways import CALL_OUTCOME_ORDER, CALL_OUTCOMES, WAY_ORDER, WAYS
from fangxun.warnings.queries import ours
from fangxun.warnings.tables import CallAttempt, Notification, Warning
from fangxun.warnings.vocabulary import COLOURS, RESPONSE_SOURCE

N = Notification
# Only real warnings count; exercises (演练) have their own section (drill_figures), drafts, tests, system
# messages and the like none.
COUNTED_STATUSES = ("Actual",)
ISSUED = ("Alert", "Update")  # a Cancel (解除) ends a warning: it is counted apart, not as one issued
NO_COLOUR = "none"


def weather_warnings(start: datetime, end: datetime) -> list:
    """SQL conditions: weather warnings of ours received in [start, end), of any message type (none outside the
    jurisdiction, no all-clear of something we never held)."""
    return [Warning.received_at >= start, Warning.received_at < end, Warning.source != RESPONSE_SOURCE,
            Warning.cap_status.in_(COUNTED_STATUSES), ours()]


def decision_notices(start: datetime, end: datetime) -> list:
    """SQL conditions: notices of response decisions sent in [start, end)."""
    return [Warning.received_at >= start, Warning.received_at < end, Warning.source == RESPONSE_SOURCE]


async def warning_figures(session: AsyncSession, months: list[datetime]) -> dict:
    """Warnings by type and colour and per local month; `months` are the 13 month starts of the year."""
    month = case(*[(Warning.received_at < months[index + 1], index + 1) for index in range(11)], else_=12)
    # Grouped over a subquery: PostgreSQL cannot match a CASE with bound values in GROUP BY.
    kind = case((Warning.all_clear.is_(True), "Cancel"), else_=Warning.msg_type)  # an Update that lifts (解除)
    rows_of = (select(Warning.event, Warning.colour, kind.label("msg_type"), month.label("month"))
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


def minutes_sql(start, end, dialect: str):
    """SQL of the minutes from `start` to `end` to 1/1000 (SQLite keeps UTC text, PostgreSQL timestamps).

    Rounded so that exactly 5 minutes computed through julianday's floating days stays 5, not 5.0000001."""
    if dialect == "sqlite":
        minutes = (func.julianday(end) - func.julianday(start)) * 1440.0
    else:
        minutes = func.extract("epoch", end - start) / 60.0
    return func.round(cast(minutes, Numeric), 3)


def _sum(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def notification_figures(session: AsyncSession, warnings_of) -> dict:
    """叫应 figures of the notifications of the warnings selected by the conditions `warnings_of`.

    First notices (purpose "notice") give sent, delivered, acknowledged, the rate (acknowledged / delivered)
    and the times to acknowledge (acked_at - delivered_at: buckets, median and 90th percentile by nearest rank);
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
    # The times to acknowledge stay in the database: bucketed by a CASE, percentiles read by rank.
    waited = minutes_sql(N.delivered_at, N.acked_at, session.bind.dialect.name)
    answered = (N.warning_id.in_(ids), N.purpose == "notice", N.delivered_at.is_not(None), acked)
    bucket = case(*[(waited <= upper, index) for index, (_, upper) in enumerate(ACK_BUCKETS) if upper is not None],
                  else_=len(ACK_BUCKETS) - 1)
    # Grouped over a subquery: PostgreSQL cannot match a CASE with bound values in GROUP BY.
    buckets = select(bucket.label("bucket")).where(*answered).subquery()
    histogram = [0] * len(ACK_BUCKETS)
    for index, count in await session.execute(select(buckets.c.bucket, func.count()).group_by(buckets.c.bucket)):
        histogram[index] = count
    timed = sum(histogram)

    async def percentile(percent: float) -> float | None:
        if not timed:
            return None
        value = (await session.execute(select(waited).where(*answered).order_by(waited)
                                       .offset(nearest_rank_index(timed, percent)).limit(1))).scalar_one()
        return round(max(0.0, float(value)), 1)  # an answer recorded before delivery counts as 0

    return {
        "notices": notices[0], "sent": notices[1], "delivered": notices[2], "acknowledged": notices[3],
        "ack_rate": percent(notices[3], notices[2]), "acknowledged_late": notices[4],
        "failed": notices[5], "dead": notices[6],
        "timed": timed,
        "median_ack_minutes": await percentile(50),
        "p90_ack_minutes": await percentile(90),
        "ack_histogram": histogram,
        "reminders": by_purpose.get("reminder", (0,))[0],
        "escalations": by_purpose.get("escalation", (0,))[0],
        "acknowledged_by": await acknowledged_by(session, ids),
        "calls": await call_figures(session, ids),
    }


async def acknowledged_by(session: AsyncSession, warning_ids) -> dict:
    """First notices acknowledged, by way (link, key press, SMS reply, other): they add up to `acknowledged`."""
    counts = dict.fromkeys(WAY_ORDER, 0)
    rows = await session.execute(select(N.acked_via, func.count())
                                 .where(N.warning_id.in_(warning_ids), N.purpose == "notice", N.acked_at.is_not(None))
                                 .group_by(N.acked_via))
    for via, count in rows:
        counts[WAYS.get(via, "other")] += count
    return counts


async def call_figures(session: AsyncSession, warning_ids) -> dict:
    """Voice calls made for any notification of these warnings (reminders' and escalations' calls too), by
    outcome: answered, not answered (no answer, busy, rejected), hung up early, failed, no result yet; and the
    calls answered with key 1."""
    counts = {"calls": 0, **dict.fromkeys(CALL_OUTCOME_ORDER, 0), "key_1": 0}
    C = CallAttempt
    rows = await session.execute(select(C.status, func.count(), _sum(C.keys.contains("1")))
                                 .join(N, N.id == C.notification_id).where(N.warning_id.in_(warning_ids))
                                 .group_by(C.status))
    for status, count, key_1 in rows:
        counts["calls"] += count
        counts[CALL_OUTCOMES.get(status, "failed")] += count
        counts["key_1"] += key_1
    return counts
