"""The response part of the event page: the level in force, the live proposal with the districts behind it, and
each decision's notice with its 叫应 (how many were told, answered, waited for, escalated; who has not answered)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.unit_search import place_labels
from fangxun.settings import Settings
from fangxun.warnings.events.config import LEVEL_KEYS
from fangxun.warnings.events.decision_queries import decision_views
from fangxun.warnings.events.response_advice import current_text, decision_headline, proposal_advice
from fangxun.warnings.events.response_metrics import current_proposal
from fangxun.warnings.queries import STATE_LABELS, is_overdue, recipient_state
from fangxun.warnings.routing.templates import display_time
from fangxun.warnings.tables import Notification

# Unanswered recipients named per notice (a decision notice goes to a few department desks and their leaders).
UNANSWERED_SHOWN = 30
LEVEL_CODES = {number: key for key, number in LEVEL_KEYS.items()}


def notice_figures(counts: Mapping[str, int] | None) -> dict | None:
    """A notice's 叫应 in four figures: told (cancelled ones left out), acknowledged, waiting, escalated; and
    failed, overdue, and cancelled (a later decision's notice took over those not yet acknowledged)."""
    if counts is None:
        return None
    return {"told": counts["total"] - counts["cancelled"], "acknowledged": counts["acknowledged"],
            "waiting": counts["pending"] + counts["delivered"], "escalated": counts["escalated"],
            "failed": counts["failed"] + counts["dead"], "overdue": counts["overdue"],
            "cancelled": counts["cancelled"]}


async def unanswered(session: AsyncSession, notice_ids: list[int], now: datetime) -> dict[int, list[dict]]:
    """Each notice's recipients who have not acknowledged (cancelled and reminder rows left out), overdue and
    escalated first, named with the district of their unit."""
    found: dict[int, list[dict]] = {notice: [] for notice in notice_ids}
    if not notice_ids:
        return found
    rows = (await session.execute(
        select(Notification).where(Notification.warning_id.in_(notice_ids), Notification.acked_at.is_(None),
                                   Notification.status != "cancelled", Notification.purpose != "reminder")
        .order_by(Notification.id))).scalars().all()
    places = await place_labels(session, {row.unit_code for row in rows if row.unit_code})
    for row in rows:
        state = recipient_state(row.status, row.acked_at, row.escalated_at)
        found[row.warning_id].append({
            "id": row.id, "name": row.recipient_name, "place": places.get(row.unit_code or "", ""),
            "state": state, "state_label": STATE_LABELS[state], "overdue": is_overdue(row, now)})
    for people in found.values():
        people.sort(key=lambda person: (not person["overdue"], person["state"] != "escalated",
                                        person["state"] != "failed", person["id"]))
    return found


async def _districts(session: AsyncSession, cover: Mapping[str, float]) -> list[dict]:
    labels = await place_labels(session, cover)
    return sorted(({"code": code, "label": labels.get(code, code), "share": share} for code, share in cover.items()),
                  key=lambda district: (-district["share"], district["code"]))


async def response_desk(session: AsyncSession, settings: Settings, event_id: int, now: datetime) -> dict:
    """The level in force (from the decisions), the proposal the API gives now with its wording against that
    level, and the decisions newest first, each with its notice's 叫应 and unanswered recipients."""
    decisions = await decision_views(session, event_id, now)
    proposal = await current_proposal(session, settings, event_id, now)
    last = decisions[-1] if decisions else None
    current = None if last is None or last["action"] == "terminate" else last["level"]
    when = display_time(datetime.fromisoformat(last["decided_at"]), settings.registry.timezone) if last else ""
    advice = proposal_advice(proposal.level if proposal else None, current)
    notices = [d["notice_warning_id"] for d in decisions if d["notice_warning_id"] is not None]
    waiting = await unanswered(session, notices, now)
    departments = settings.warnings.departments
    for decision in decisions:
        people = waiting.get(decision["notice_warning_id"], [])
        decision["headline"] = decision_headline(decision["action"], decision["level"])
        decision["notice"] = notice_figures(decision["notice_counts"])
        decision["unanswered"] = people[:UNANSWERED_SHOWN]
        decision["unanswered_more"] = max(0, len(people) - UNANSWERED_SHOWN)
    return {
        "current_level": current,
        "current_text": current_text(last["action"] if last else None, last["level"] if last else None,
                                     last["decided_by"] if last else "", when),
        "proposal": proposal.as_json() if proposal else None,
        "advice": {"action": advice.action, "level": advice.level, "text": advice.text,
                   "level_code": LEVEL_CODES.get(advice.level, "") if advice.action else ""},
        "districts": await _districts(session, proposal.cover) if proposal else [],
        "department_actions": [
            {"key": key, "name": getattr(departments.get(key), "name", key), "actions": list(items)}
            for key, items in (proposal.actions.items() if proposal else ())],
        "decisions": decisions[::-1],
    }
