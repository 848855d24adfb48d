"""The words of the warnings domain, in one place: colours, message types, statuses, recipient kinds,
purposes, priorities and the levels of 责任人. Pure: no I/O, no SQLAlchemy."""

from __future__ import annotations

from fangxun.plans.unit_rules import LEVEL_LABELS, LEVELS, PARENT_LEVEL, PERSON_LEVELS

__all__ = ["COLOURS", "COLOUR_LABELS", "COLOUR_NAMES", "FOLLOW_UP_OFFSET", "LEVELS", "LEVEL_LABELS", "MSG_TYPES",
           "MSG_TYPE_LABELS", "NOTIFICATION_STATUSES", "PARENT_LEVEL", "PERSON_LEVELS", "PRIORITIES", "PURPOSES",
           "RECIPIENT_KINDS", "RESPONSE_SOURCE", "WARNING_STATUSES", "priority"]

# Warning colours, weakest first (blue < yellow < orange < red), and how people say them.
COLOURS = ("blue", "yellow", "orange", "red")
COLOUR_LABELS = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
# What people type for a colour (蓝, 蓝色 or blue) -> the colour.
COLOUR_NAMES = {name: colour for colour, label in COLOUR_LABELS.items() for name in (label[0], label, colour)}
# CAP <msgType>: a new warning, a change of one (upgrade, downgrade), its lifting (解除).
MSG_TYPES = ("Alert", "Update", "Cancel")
MSG_TYPE_LABELS = {"Alert": "发布", "Update": "更新", "Cancel": "解除"}
# Lifecycle of a stored warning (its CAP <status> is kept apart, as cap_status).
# "outside": its areas fall outside the jurisdiction; stored and listed, never in force.
WARNING_STATUSES = ("active", "superseded", "cancelled", "expired", "outside")
NOTIFICATION_STATUSES = ("pending", "sending", "delivered", "failed", "dead", "cancelled")
RECIPIENT_KINDS = ("department", "department_leader", "person", "duty_desk", "duty_leader")
# Why a notification exists: the first notice, a repeat of an unanswered one, or a step up.
PURPOSES = ("notice", "reminder", "escalation")
# Notices of response-level decisions are stored as warnings of this source (same outbox, same 叫应);
# they are not weather warnings: they join no event, are left out of warning statistics, the CAP
# feed and the map.
RESPONSE_SOURCE = "response"
# 0 red, 1 orange, 2 yellow or uncoloured, 3 blue: the outbox is claimed in this order (first notices).
PRIORITIES = {"red": 0, "orange": 1, "yellow": 2, None: 2, "blue": 3}
# Reminders and escalations are claimed after every first notice (a queued wave of them never holds up a new
# warning): their colour's priority plus this (4 red … 7 blue).
FOLLOW_UP_OFFSET = max(PRIORITIES.values()) + 1


def priority(colour: str | None, purpose: str = "notice") -> int:
    """The outbox priority of a row of `colour` made for `purpose` (PURPOSES): lower is claimed first."""
    rank = PRIORITIES.get(colour, PRIORITIES[None])
    return rank if purpose == "notice" else rank + FOLLOW_UP_OFFSET
