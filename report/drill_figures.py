"""Drills of a year, in a section of their own: the 叫应 drills and the exercise warnings (CAP Exercise, 演练),
each with what it told and how many answered. Neither counts as a warning issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.report.period import local_iso, percent
from fangxun.report.warning_figures import ISSUED
from fangxun.warnings.queries import ours
from fangxun.warnings.tables import Drill, Notification, Warning
from fangxun.warnings.vocabulary import COLOUR_LABELS, RESPONSE_SOURCE

N = Notification


def _answers(*where):
    """SQL: (notices, acknowledged) of the first notices selected by `where`."""
    return select(func.count(), func.coalesce(func.sum(case((N.acked_at.is_not(None), 1), else_=0)), 0)).where(
        N.purpose == "notice", N.escalation_step == 0, *where)


async def drill_figures(session: AsyncSession, start: datetime, end: datetime, zone: str) -> dict:
    """The drills started and the exercise warnings received in [start, end), oldest first."""
    items = []
    for drill in (await session.execute(select(Drill).where(Drill.started_at >= start, Drill.started_at < end)
                                        .order_by(Drill.started_at, Drill.id))).scalars():
        told, answered = (await session.execute(_answers(N.drill_id == drill.id))).one()
        items.append({"kind": "drill", "at": local_iso(drill.started_at, zone),
                      "name": f"{drill.scope_name}叫应演练", "notices": told, "acknowledged": answered,
                      "ack_rate": percent(answered, told), "cancelled": drill.cancelled_at is not None})
    exercises = (await session.execute(
        select(Warning).where(Warning.received_at >= start, Warning.received_at < end,
                              Warning.source != RESPONSE_SOURCE, Warning.cap_status == "Exercise", ours(),
                              Warning.msg_type.in_(ISSUED), Warning.all_clear.is_(False))
        .order_by(Warning.received_at, Warning.id))).scalars().all()
    for warning in exercises:
        told, answered = (await session.execute(_answers(N.warning_id == warning.id))).one()
        items.append({"kind": "exercise_warning", "at": local_iso(warning.received_at, zone),
                      "name": f"{warning.event}{COLOUR_LABELS.get(warning.colour or '', '')}预警（演练）",
                      "notices": told, "acknowledged": answered, "ack_rate": percent(answered, told),
                      "cancelled": False})
    items.sort(key=lambda item: item["at"])
    return {"drills": sum(1 for item in items if item["kind"] == "drill"),
            "exercise_warnings": len(exercises), "items": items}
