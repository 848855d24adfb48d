"""Drill rules, pure: the 【演练】 marker every drill message starts with, the options of a drill, what became of
each person told, and the figures of a district."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from fangxun.core.errors import BadInput

DRILL_MARK = "【演练】"
# The first line of every drill message (and of every message of an Exercise warning).
DRILL_NOTE = "【演练】本条为防汛叫应演练消息，不是真实预警，除回复确认（叫应）外无需采取任何行动。"
# Urgency tags a real warning's title opens with, taken off a drill's (a drill must not look urgent).
URGENT_TAGS = ("【紧急】", "【特急】")
# The levels a drill can reach: the 责任人 of villages, townships and districts, and the desks (the city
# duty room and the department desks of the configuration).
LEVELS = ("village", "township", "district", "desk")
LEVEL_LABELS = {"village": "村（社区）", "township": "乡镇（街道）", "district": "区县", "desk": "值班席位"}
DEFAULT_DEADLINE_MINUTES = 30
MAX_DEADLINE_MINUTES = 24 * 60
# What became of a person told (or a desk), in the order the report lists them.
ANSWERED, LATE, NO_ANSWER, FAILED, NO_CONTACT, WAITING = (
    "answered", "late", "no_answer", "failed", "no_contact", "waiting")
OUTCOME_LABELS = {ANSWERED: "按时叫应", LATE: "逾期叫应", NO_ANSWER: "到时未叫应", FAILED: "送达失败",
                  NO_CONTACT: "无联系方式", WAITING: "等待中"}
# The reasons a person counts as unreachable in the report.
UNREACHABLE = (NO_CONTACT, FAILED, NO_ANSWER)
_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|分钟|小时)?\s*$", re.IGNORECASE)


def exercise_payload(payload: dict) -> bool:
    """Whether a notification is of a drill or of an Exercise warning (its messages carry the marker)."""
    return payload.get("drill_id") is not None or payload.get("cap_status") == "Exercise"


def marked_title(title: str) -> str:
    """`title` opening with 【演练】 (once), without an urgency tag."""
    title = title.replace(DRILL_MARK, "")
    for tag in URGENT_TAGS:
        title = title.replace(tag, "")
    return DRILL_MARK + title.lstrip()


def marked(title: str, text: str) -> tuple[str, str]:
    """(title, text) of a drill message: both opening with 【演练】, the text with the line saying it is a drill
    (once, first, even when a reminder's or escalation's note leads the text)."""
    text = text.replace(f"{DRILL_NOTE}\n", "").replace(DRILL_NOTE, "").strip("\n")
    return marked_title(title), f"{DRILL_NOTE}\n{text}" if text else DRILL_NOTE


def drill_message(scope_name: str, deadline_minutes: int, recipient: str, duty: str, ack_url: str) -> tuple[str, str]:
    """(title, text) of a drill's first message, with the slots (or values) of the recipient's name, their duty
    line and the ack link."""
    title = f"{DRILL_MARK}{scope_name}防汛叫应演练"
    text = (f"{DRILL_NOTE}\n{recipient}：\n{duty}\n{scope_name}防汛指挥部正在组织汛前叫应演练，检验各级责任人和值班席位"
            f"能否及时联系到。请于 {deadline_minutes} 分钟内点击确认收到（叫应）：{ack_url}")
    return title, text


def parse_deadline(text: str | int | None) -> int:
    """Minutes from "30m", "1h", "45" (minutes), 30; a clear error otherwise."""
    if text is None or text == "":
        return DEFAULT_DEADLINE_MINUTES
    match = _DURATION.match(str(text))
    if not match:
        raise BadInput(f"deadline：{text!r} 无法识别，应为分钟数或如 30m、1h")
    minutes = int(match.group(1)) * (60 if (match.group(2) or "").lower() in ("h", "小时") else 1)
    if not 1 <= minutes <= MAX_DEADLINE_MINUTES:
        raise BadInput(f"deadline：应在 1 分钟到 {MAX_DEADLINE_MINUTES // 60} 小时之间，而不是 {text!r}")
    return minutes


def parse_choices(field: str, given: str | Iterable[str] | None, allowed: Iterable[str],
                  default: Iterable[str]) -> tuple[str, ...]:
    """A comma-separated (or listed) choice of `allowed`, in the order given, each once; `default` when empty."""
    items = given.split(",") if isinstance(given, str) else list(given or ())
    items = [item.strip() for item in items if item and item.strip()]
    if not items:
        return tuple(default)
    allowed = tuple(allowed)
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise BadInput(f"{field}：未知的取值 {'、'.join(unknown)}（可选：{'、'.join(allowed)}）")
    return tuple(dict.fromkeys(items))


class Told(NamedTuple):
    """One notification of a person or desk, as the report reads it."""

    status: str
    attempts: int
    delivered_at: datetime | None
    acked_at: datetime | None
    problem: bool  # born failed: no address on any channel


def outcome(rows: list[Told], deadline_at: datetime, now: datetime) -> tuple[str, datetime | None]:
    """What became of a person told on one or more channels as at `now`, and when they first answered."""
    answered = min((row.acked_at for row in rows if row.acked_at is not None and row.acked_at <= now), default=None)
    if answered is not None:
        return (ANSWERED if answered <= deadline_at else LATE), answered
    if rows and all(row.problem for row in rows):
        return NO_CONTACT, None
    if any(row.delivered_at is not None for row in rows):
        return (NO_ANSWER if now >= deadline_at else WAITING), None
    if all(row.status in ("failed", "dead", "cancelled") for row in rows):
        return FAILED, None
    return (NO_ANSWER if now >= deadline_at else WAITING), None


def median(values: list[float]) -> float | None:
    """The median of `values` (the mean of the middle two for an even count); None for none."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def district_figures(outcomes: list[tuple[str, float | None]]) -> dict:
    """Told, answered (in time), each outcome's count, unreachable, and the median and longest minutes to answer
    (of those who answered, late ones too) of one district's (outcome, minutes) list."""
    counts = dict.fromkeys(OUTCOME_LABELS, 0)
    for state, _ in outcomes:
        counts[state] += 1
    minutes = [value for _, value in outcomes if value is not None]
    middle = median(minutes)
    return {"told": len(outcomes), "answered": counts[ANSWERED], "late": counts[LATE],
            "unreachable": sum(counts[state] for state in UNREACHABLE),
            "no_contact": counts[NO_CONTACT], "failed": counts[FAILED], "no_answer": counts[NO_ANSWER],
            "waiting": counts[WAITING],
            "median_minutes": None if middle is None else round(middle, 1),
            "max_minutes": None if not minutes else round(max(minutes), 1)}


def minutes_between(start: datetime, end: datetime) -> float:
    """Minutes from `start` to `end` (never below 0)."""
    return max(0.0, (end - start) / timedelta(minutes=1))


def follow_up_ends(started_at: datetime, deadline_minutes: int, repeats: int) -> datetime:
    """When a drill's reminders and escalations stop: time for the first message and each of its reminders at
    every step of the longest chain (village, township, district, the city duty room) and one step more."""
    return started_at + timedelta(minutes=deadline_minutes * (repeats + 1) * 5)


_SCOPE_RANK = {"city": 0, "district": 1, "township": 2, "village": 3}


def within_scope(target: tuple[str, str], scope_level: str) -> bool:
    """Whether an escalation target (deadlines.escalation_target) lies inside a drill over a unit of
    `scope_level`: a 责任人 at or below the scope's level; the city's desks and leaders only in a city-wide drill."""
    kind, who = target
    if kind == "person":
        return _SCOPE_RANK.get(who, -1) >= _SCOPE_RANK[scope_level]
    return scope_level == "city"


class DrillStep(NamedTuple):
    """What the drill's follow-up does for one unanswered message now."""

    action: str  # none | wait | remind | escalate | exhausted
    at: datetime | None = None  # wait: look again then


def drill_step(*, answered: bool, escalated: bool, unreachable: bool, delivered_at: datetime | None,
               ack_deadline: datetime | None, reminders: int, repeats: int, can_escalate: bool,
               now: datetime) -> DrillStep:
    """Remind `repeats` times once the deadline of the last message passed, then escalate once (only where
    `can_escalate`: someone above inside the drill's scope), as a real warning's follow-up does."""
    if answered or escalated:
        return DrillStep("none")
    if unreachable:
        return DrillStep("escalate" if can_escalate else "exhausted")
    if delivered_at is None or ack_deadline is None:
        return DrillStep("wait")
    if now < ack_deadline:
        return DrillStep("wait", ack_deadline)
    if reminders < repeats:
        return DrillStep("remind")
    return DrillStep("escalate" if can_escalate else "exhausted")
