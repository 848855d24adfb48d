"""The weather warnings in force, as the duty officer's overview shows them: reddest first, each with its 叫应
counts and the recipient who has waited longest for an answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.unit_search import place_labels
from fangxun.warnings.queries import N, STATE_LABELS, ours, recipient_state, state_counts
from fangxun.warnings.tables import Warning, WarningUnit
from fangxun.warnings.vocabulary import COLOUR_LABELS, PRIORITIES, RESPONSE_SOURCE

# States of a recipient still to answer (待确认): not acknowledged, not stepped up to the level above (已上报),
# not cancelled.
AWAITING_STATES = ("pending", "delivered", "failed", "dead")
MAX_AREA_CHARS = 80


def in_force(now: datetime):
    """SQL condition: a weather warning of ours in force at `now` (not an all-clear, not a response-level notice,
    not an exercise (演练), not past its expiry even before the scheduler closes it)."""
    return and_(Warning.status == "active", Warning.all_clear.is_(False), Warning.msg_type != "Cancel",
                Warning.cap_status != "Exercise",
                Warning.source != RESPONSE_SOURCE, ours(), or_(Warning.expires.is_(None), Warning.expires > now))


def area_text(areas: list[dict], units: int) -> str:
    """The warned areas as their issuer named them ("金水区、中原区"), shortened; else how many units."""
    names = [str(area.get("description") or "").strip() for area in areas or []]
    text = "、".join(dict.fromkeys(name for name in names if name))
    if len(text) > MAX_AREA_CHARS:
        text = text[:MAX_AREA_CHARS - 1] + "…"
    return text or (f"{units} 个区划" if units else "区域未定")


def awaiting(counts: dict) -> int:
    """Recipients still to answer (待确认) among a warning's counts by state."""
    return sum(counts[state] for state in AWAITING_STATES)


async def _unit_counts(session: AsyncSession, warning_ids: list[int]) -> dict[int, int]:
    return dict((await session.execute(select(WarningUnit.warning_id, func.count())
                                       .where(WarningUnit.warning_id.in_(warning_ids))
                                       .group_by(WarningUnit.warning_id))).all())


async def longest_waiting(session: AsyncSession, warning_id: int):
    """The unanswered recipient of a warning (not escalated, not cancelled; reminders are not recipients) who
    was told first, with the moment it was told (sent, or written when still unsent), or None."""
    since = func.coalesce(N.c.delivered_at, N.c.created_at)
    return (await session.execute(
        select(N.c.recipient_name, N.c.unit_code, N.c.status, N.c.acked_at, N.c.escalated_at,
               since.label("since"))
        .where(N.c.warning_id == warning_id, N.c.purpose != "reminder", N.c.acked_at.is_(None),
               N.c.escalated_at.is_(None), N.c.status != "cancelled")
        .order_by(since, N.c.id).limit(1))).first()


async def warnings_in_force(session: AsyncSession, now: datetime, limit: int) -> dict:
    """The first `limit` warnings in force (red first, then newest) and how many there are in all; each with
    colour, area, issue time, counts 待确认/已确认/已上报 and the longest-waiting recipient."""
    total = (await session.execute(select(func.count()).select_from(Warning).where(in_force(now)))).scalar_one()
    severity = case(*((Warning.colour == colour, rank) for colour, rank in PRIORITIES.items() if colour),
                    else_=PRIORITIES[None])
    rows = (await session.execute(select(Warning).where(in_force(now)).order_by(severity, Warning.sent.desc(),
                                                                            Warning.id.desc()).limit(limit))
            ).scalars().all()
    ids = [row.id for row in rows]
    counts = await state_counts(session, ids, now)
    units = await _unit_counts(session, ids) if ids else {}
    waiting = {row.id: await longest_waiting(session, row.id) for row in rows}
    places = await place_labels(session, [w.unit_code for w in waiting.values() if w is not None and w.unit_code])
    items = []
    for row in rows:
        bucket, oldest = counts[row.id], waiting[row.id]
        items.append({
            "id": row.id, "thread_id": row.thread_id or row.id, "event": row.event, "colour": row.colour,
            "colour_label": COLOUR_LABELS.get(row.colour or "", ""), "headline": row.headline,
            "msg_type": row.msg_type, "sent": row.sent, "expires": row.expires,
            "area": area_text(row.areas, units.get(row.id, 0)), "sender_name": row.sender_name,
            "awaiting": awaiting(bucket), "acknowledged": bucket["acknowledged"], "escalated": bucket["escalated"],
            "overdue": bucket["overdue"], "total": bucket["total"] - bucket["cancelled"],
            "oldest": None if oldest is None else {
                "name": oldest.recipient_name, "place": places.get(oldest.unit_code or "", ""),
                "state_label": STATE_LABELS[recipient_state(oldest.status, oldest.acked_at, oldest.escalated_at)],
                "since": oldest.since, "waited_seconds": max(0.0, (now - oldest.since).total_seconds())},
        })
    return {"total": total, "items": items}
