"""The events still open, as the duty officer's overview shows them: the response level in force and the one
the rules propose now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.settings import Settings
from fangxun.warnings.events.config import LEVEL_LABELS
from fangxun.warnings.events.decisions import decisions_of
from fangxun.warnings.events.response_advice import proposal_advice
from fangxun.warnings.events.response_metrics import current_proposal
from fangxun.warnings.events.tables import Event
from fangxun.warnings.events.timeline import current_level

NO_LEVEL = "未启动应急响应"


def level_name(settings: Settings, level: int | None) -> str:
    """Ⅲ级应急响应 (the configured name of the level), or that no response is in force."""
    if level is None:
        return NO_LEVEL
    configured = settings.response.level(level)
    return configured.name if configured else f"{LEVEL_LABELS[level]}应急响应"


async def open_events(session: AsyncSession, settings: Settings, now: datetime, limit: int) -> dict:
    """The first `limit` open events (newest first) and how many are open; each with its kind, start, the level
    in force and what the rules propose now."""
    total = (await session.execute(select(func.count()).select_from(Event).where(Event.status == "open"))
             ).scalar_one()
    events = (await session.execute(select(Event).where(Event.status == "open")
                                    .order_by(Event.started_at.desc(), Event.id.desc()).limit(limit))).scalars().all()
    items = []
    for event in events:
        level = current_level(await decisions_of(session, event.id))
        proposal = await current_proposal(session, settings, event.id, now)
        proposed = proposal.level if proposal else None
        advice = proposal_advice(proposed, level)
        kind = settings.events.kinds.get(event.kind)
        items.append({
            "id": event.id, "name": event.name, "kind_label": kind.label if kind else event.kind,
            "started_at": event.started_at, "current_level": level,
            "current_label": level_name(settings, level),
            "proposed_level": proposed, "proposed_label": proposal.name if proposal else "无",
            "proposal_rule": proposal.rule if proposal else "", "advice": advice.text,
            # A change to decide: the proposal points to another level, or no longer holds for the one in force.
            "needs_decision": advice.action is not None or (proposed is None and level is not None),
        })
    return {"total": total, "items": items}
