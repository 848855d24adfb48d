"""Plan review reminders on the overview: how many went out lately, and the overdue plans nobody can be reminded
of (their owner has no contact, or no address on any reminder channel)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.contact_rules import channels_from_text
from fangxun.plans.models import Plan
from fangxun.plans.unit_search import place_labels
from fangxun.settings import Settings
from fangxun.warnings.plan_reminders import NO_ADDRESS, NO_CONTACT, REMINDER_KEY_PREFIX, owners_of
from fangxun.warnings.routing.recipients import person_address
from fangxun.warnings.tables import Notification

RECENT_DAYS = 30
_PLANS_PER_CHUNK = 2000


async def reminders_sent(session: AsyncSession, now: datetime, days: int = RECENT_DAYS) -> dict:
    """The review reminders put in the outbox in the last `days` days: how many, delivered and failed."""
    rows = dict((await session.execute(
        select(Notification.status, func.count()).where(
            Notification.idempotency_key.like(f"{REMINDER_KEY_PREFIX}%"), Notification.warning_id.is_(None),
            Notification.created_at >= now - timedelta(days=days))
        .group_by(Notification.status))).all())
    return {"days": days, "total": sum(rows.values()), "delivered": rows.get("delivered", 0),
            "failed": rows.get("failed", 0) + rows.get("dead", 0)}


async def unremindable_overdue(session: AsyncSession, settings: Settings, today: date, limit: int) -> dict:
    """Plans in force overdue for review whose owner cannot be reminded, the longest overdue first: the first
    `limit` with why, and how many there are in all.

    The plans are read and judged a chunk at a time: a province holds tens of thousands of overdue plans, and
    reading them at once held the server's event loop for most of a second."""
    channels = settings.warnings.default_route.person_channels
    stuck, total, after = [], 0, None
    while True:
        query = (select(Plan.id, Plan.title, Plan.unit_code, Plan.next_review_due)
                 .where(Plan.lifecycle == "active", Plan.next_review_due < today)
                 .order_by(Plan.next_review_due, Plan.id).limit(_PLANS_PER_CHUNK))
        if after is not None:
            due, last_id = after
            query = query.where(or_(Plan.next_review_due > due, and_(Plan.next_review_due == due, Plan.id > last_id)))
        plans = (await session.execute(query)).all()
        if not plans:
            break
        owners = await owners_of(session, plans)
        for plan in plans:
            problem = _unremindable(owners.get(plan.id), channels, settings)
            if problem is not None:
                total += 1
                if len(stuck) < limit:
                    stuck.append((plan, problem[0], problem[1]))
        after = (plans[-1].next_review_due, plans[-1].id)
    places = await place_labels(session, {plan.unit_code for plan, _, _ in stuck})
    return {"total": total, "items": [
        {"id": plan.id, "title": plan.title, "unit_code": plan.unit_code,
         "place": places.get(plan.unit_code, plan.unit_code), "next_review_due": plan.next_review_due.isoformat(),
         "days_overdue": (today - plan.next_review_due).days, "owner": name, "problem": problem}
        for plan, name, problem in stuck]}


def _unremindable(owner: tuple | None, channels, settings: Settings) -> tuple[str, str] | None:
    """(owner's name, why) when a plan's owner cannot be reminded on any reminder channel; None when they can."""
    if owner is None:
        return "", NO_CONTACT
    _, name, phone, channels_text = owner
    known = channels_from_text(channels_text)
    if any(person_address(known, phone, channel, settings.warnings.channels[channel].kind) for channel in channels):
        return None
    return name, NO_ADDRESS
