"""Read model of an event's response decisions: level labels, time from trigger to decision, the notice's 叫应."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.events.config import DECISION_LABELS, LEVEL_LABELS
from fangxun.warnings.events.decisions import decisions_of
from fangxun.warnings.events.tables import ResponseDecision
from fangxun.warnings.queries import iso, state_counts


def seconds_to_decision(decision: ResponseDecision) -> int | None:
    """Seconds from the triggering warning's receipt to the decision (None without a trigger)."""
    if decision.trigger_at is None:
        return None
    return int((decision.decided_at - decision.trigger_at).total_seconds())


def duration_text(seconds: int | None) -> str:
    """3900 -> "1小时05分", 2700 -> "45分", 30 -> "不足1分"; a decision before its trigger says so."""
    if seconds is None:
        return ""
    if seconds < 0:
        return "早于触发预警" + duration_text(-seconds).replace("不足1分", "")
    minutes = seconds // 60
    if minutes == 0:
        return "不足1分"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}小时{minutes:02d}分" if hours else f"{minutes}分"


def _label(level: int | None) -> str:
    return LEVEL_LABELS.get(level, "") if level is not None else ""


def decision_view(decision: ResponseDecision, counts: dict | None) -> dict:
    """One decision as the API shows it."""
    seconds = seconds_to_decision(decision)
    return {
        "id": decision.id, "event_id": decision.event_id, "action": decision.action,
        "action_label": DECISION_LABELS.get(decision.action, decision.action),
        "level": decision.level, "level_label": _label(decision.level),
        "previous_level": decision.previous_level, "previous_level_label": _label(decision.previous_level),
        "proposed_level": decision.proposed_level, "proposed_level_label": _label(decision.proposed_level),
        "proposal_rule": decision.proposal_rule, "decided_by": decision.decided_by,
        "decided_at": iso(decision.decided_at), "recorded_by": decision.recorded_by,
        "recorded_at": iso(decision.recorded_at), "note": decision.note,
        "trigger_warning_id": decision.trigger_warning_id, "trigger_at": iso(decision.trigger_at),
        "seconds_to_decision": seconds, "time_to_decision": duration_text(seconds),
        "notice_warning_id": decision.notice_warning_id, "notice_counts": counts,
    }


async def decision_views(session: AsyncSession, event_id: int, now: datetime) -> list[dict]:
    """The event's decisions, oldest first, each with its notice's recipient counts by 叫应 state."""
    decisions = await decisions_of(session, event_id)
    notices = [d.notice_warning_id for d in decisions if d.notice_warning_id is not None]
    counts = await state_counts(session, notices, now)
    return [decision_view(d, counts.get(d.notice_warning_id)) for d in decisions]
