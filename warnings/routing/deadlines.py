"""叫应 deadlines, reminders and the escalation chain for unacknowledged notifications.

Whether a notification asks for 叫应 at all is decided here (`asks_ack`): an all-clear (解除) only informs,
unless `[warnings.all_clear] ack`. Its notifications get no deadline when delivered (delivery.policy), no
reminder and no escalation (next_step, and the query of acks.escalation), and the channels are given no
ack link to append (delivery.dispatcher)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fangxun.warnings.config import WarningSettings
from fangxun.warnings.vocabulary import PARENT_LEVEL, PERSON_LEVELS

# 责任人 escalate one administrative level up; above the district sits the city duty desk.
_PERSON_CHAIN = {level: PARENT_LEVEL[level] for level in PERSON_LEVELS if PARENT_LEVEL[level] in PERSON_LEVELS}

Target = tuple[str, str]


@dataclass(frozen=True)
class AckState:
    """What is known about one notification when deciding what to do next."""

    colour: str | None
    recipient_kind: str  # one of vocabulary.RECIPIENT_KINDS
    level: str  # person: unit level; department(_leader): department key; duty_desk: "city"
    delivered_at: datetime | None  # the first delivery, or the latest reminder's; None: not yet
    reminders: int = 0  # reminders already sent for this notification
    escalated: bool = False  # this notification has already been escalated
    acked_at: datetime | None = None
    unreachable: bool = False  # delivery failed for good (dead): nobody to remind
    escalation_step: int = 0  # 0 for an original notification, n for the n-th escalation
    all_clear: bool = False  # the notification is of an all-clear (解除)
    group_answered: bool = False  # someone of its group (same warning, step and unit or desk) acknowledged


@dataclass(frozen=True)
class Step:
    """What the dispatcher should do for a notification now."""

    action: str  # "none" | "answered" (by its group) | "wait" | "remind" | "escalate" | "exhausted"
    at: datetime | None = None  # wait: look again then; remind/escalate: the deadline that passed
    target: Target | None = None  # escalate: who to notify instead
    escalation_step: int = 0  # escalate: the step number of the new notification


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime")
    return moment


def asks_ack(all_clear: bool, config: WarningSettings) -> bool:
    """Whether the recipients of a warning must acknowledge it (叫应): yes, but for an all-clear only when
    `[warnings.all_clear] ack` asks."""
    return not all_clear or config.all_clear.ack


def ack_span(colour: str | None, config: WarningSettings, all_clear: bool = False) -> timedelta | None:
    """How long a recipient has to acknowledge a notification of `colour` once delivered; None: nobody has
    to (an all-clear, see asks_ack)."""
    if not asks_ack(all_clear, config):
        return None
    return timedelta(minutes=config.ack_deadline_minutes.minutes(colour))


def ack_deadline(colour: str | None, delivered_at: datetime, config: WarningSettings,
                 all_clear: bool = False) -> datetime | None:
    """When a notification of `colour` delivered at `delivered_at` must have been acknowledged; None: never."""
    span = ack_span(colour, config, all_clear)
    return None if span is None else _aware(delivered_at) + span


def escalation_target(recipient_kind: str, level: str) -> Target | None:
    """The next link of the chain: village -> township -> district -> city duty desk -> its 带班领导 on duty (when the
    roster names one); a department's desk -> its leader."""
    if recipient_kind == "person":
        if level in _PERSON_CHAIN:
            return ("person", _PERSON_CHAIN[level])
        return ("duty_desk", "city")
    if recipient_kind == "department":
        return ("department_leader", level)
    if recipient_kind == "duty_desk":
        return ("duty_leader", "city") if level == "city" else ("duty_desk", "city")
    if recipient_kind in ("department_leader", "duty_leader"):
        return None
    raise ValueError(f"unknown recipient kind {recipient_kind!r}")


def answered_by_group(state: AckState, config: WarningSettings) -> bool:
    """Whether an answer of its group stands for this notification: its step's rule is "one" and someone answered."""
    return state.group_answered and config.group_rule(state.escalation_step) == "one"


def next_step(state: AckState, now: datetime, config: WarningSettings) -> Step:
    """Remind until `repeat_before_escalate` reminders went unanswered, then escalate once, then stop; nothing
    once its group answered where one answer is enough."""
    _aware(now)
    if state.acked_at is not None or state.escalated or not asks_ack(state.all_clear, config):
        return Step("none")
    if answered_by_group(state, config):
        return Step("answered")
    target = escalation_target(state.recipient_kind, state.level)
    enabled = config.escalation is not None and config.escalation.enabled
    if state.unreachable:
        if target is None or not enabled:
            return Step("exhausted")
        return Step("escalate", now, target, state.escalation_step + 1)
    if state.delivered_at is None:
        return Step("wait")
    deadline = ack_deadline(state.colour, state.delivered_at, config, state.all_clear)
    if now < deadline:
        return Step("wait", deadline)
    if state.reminders < config.repeat_before_escalate:
        return Step("remind", deadline)
    if target is None or not enabled:
        return Step("exhausted", deadline)
    return Step("escalate", deadline, target, state.escalation_step + 1)
