"""The events still open, as the duty officer's overview shows them: the response level in force and the one
the rules propose now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.settings import Settings
from fangxun.warnings.events.config import LEVEL_LABELS
from fangxun.warnings.events.decisions import decisions_of
from fangxun.warnings.events.response_metrics import current_proposal
from fangxun.warnings.events.tables import Event
from fangxun.warnings.events.timeline import current_level

NO_LEVEL = "未启动应急响应"


def advice(current: int | None, proposed: int | None) -> str:
    """What the proposal asks of the duty officer against the level in force ("" when they agree)."""
    if proposed == current:
        return ""
    if proposed is None:
        return "规则未提出响应级别，请研判是否降低或终止响应"
    if current is None:
        return f"规则建议启动{LEVEL_LABELS[proposed]}应急响应"
    # Ⅰ is the highest level: a smaller number is a stronger response.
    verb = "提升至" if proposed < current else "降低至"
    return f"规则建议{verb}{LEVEL_LABELS[proposed]}应急响应"


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
        kind = settings.events.kinds.get(event.kind)
        items.append({
            "id": event.id, "name": event.name, "kind_label": kind.label if kind else event.kind,
            "started_at": event.started_at, "current_level": level,
            "current_label": level_name(settings, level),
            "proposed_level": proposed, "proposed_label": proposal.name if proposal else "无",
            "proposal_rule": proposal.rule if proposal else "", "advice": advice(level, proposed),
        })
    return {"total": total, "items": items}
