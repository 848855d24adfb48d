"""Recording a response-level decision (会商研判) and sending its notice to the departments through the outbox."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.accounts import Principal
from fangxun.core.audit import record
from fangxun.core.errors import BadInput, Conflict, NotFound
from fangxun.core.times import parse_local_time
from fangxun.settings import Settings
from fangxun.warnings.delivery.notices import NewNotice, notice_key, notice_payload, signed_writer
from fangxun.warnings.delivery.outbox import ACK_SLOT, RECIPIENT_SLOT
from fangxun.warnings.events.config import DECISION_ACTIONS, DECISION_LABELS, LEVEL_LABELS
from fangxun.warnings.events.response_metrics import current_proposal
from fangxun.warnings.events.response_rules import LEVEL_COLOURS, Proposal
from fangxun.warnings.events.tables import Event, EventWarning, ResponseDecision
from fangxun.warnings.intake import lifecycle
from fangxun.warnings.intake.normalised import NormalisedWarning, Reference
from fangxun.warnings.routing.recipients import Recipient
from fangxun.warnings.routing.templates import display_time
from fangxun.warnings.routing.tree import department_contact
from fangxun.warnings.tables import Warning
from fangxun.warnings.vocabulary import RESPONSE_SOURCE

NOTICE_SENDER = "fangxun"
NOTICE_EVENT = "防汛应急响应"
NOTICE_SENDER_NAME = "防汛抗旱指挥部办公室"
# How the template names each action: 关于{decision}防汛{level}应急响应的通知.
TITLE_DECISIONS = {"activate": "启动", "upgrade": "提升至", "downgrade": "降低至", "terminate": "终止"}
# A decision may be dated up to this far ahead of the server clock (clocks of people's devices drift).
FUTURE_SLACK = timedelta(minutes=1)
TERMINATED_NOTICE_LIFETIME = timedelta(hours=24)
LEVEL_SEVERITIES = {1: "Extreme", 2: "Severe", 3: "Moderate", 4: "Minor"}
MAX_NOTE = 2000
# What a decision is recorded from, in the API's body and the page's form alike.
DECISION_FIELDS = ("action", "level", "decided_by", "decided_at", "note")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "一": 1, "二": 2, "三": 3, "四": 4,
          "1": 1, "2": 2, "3": 3, "4": 4}
_LEVEL_TEXT = re.compile(r"^(.+?)级?(应急响应)?$")


def parse_level(value: object, field: str = "level") -> int:
    """1..4 from 1, "4", "IV", "Ⅳ", "Ⅳ级" or "四级"; BadInput otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= 4:
            return value
    elif isinstance(value, str):
        match = _LEVEL_TEXT.match(value.strip())
        number = _ROMAN.get(match.group(1).strip().upper()) if match else None
        if number is not None:
            return number
    raise BadInput(f"{field}：响应级别应为 Ⅰ、Ⅱ、Ⅲ、Ⅳ（或 I–IV、1–4）：{value!r}", extra={"field": field})


def parse_time(value: object, field: str = "decided_at") -> datetime | None:
    """An ISO date-time (without a zone: Beijing time) as aware UTC; None when absent."""
    example = "如 2026-07-20T06:00:00+08:00 或 2026-07-20 06:00"
    return parse_local_time(value, field, empty=True, dates=False, not_text=f"{{field}}：应为时间，{example}",
                            unreadable=f"{{field}}：应为时间，{example}：{{value!r}}")


def level_after(decisions: list[ResponseDecision]) -> int | None:
    """The response level in force after these decisions (oldest first); None when none is."""
    if not decisions or decisions[-1].action == "terminate":
        return None
    return decisions[-1].level


def check_transition(action: str, level: int | None, current: int | None) -> int:
    """The decision's level if `action` to `level` may follow `current`; BadInput or Conflict otherwise."""
    if action not in DECISION_ACTIONS:
        raise BadInput(f"action：决策类型应为 {'、'.join(DECISION_ACTIONS)}（启动、提升、降低、终止）：{action!r}",
                       extra={"field": "action"})
    if action == "activate":
        if current is not None:
            raise Conflict(f"action：本事件已启动{LEVEL_LABELS[current]}应急响应，应选择提升、降低或终止",
                           extra={"field": "action"})
    elif current is None:
        raise Conflict(f"action：本事件当前未启动应急响应，不能{DECISION_LABELS[action]}，应先启动",
                       extra={"field": "action"})
    if action == "terminate":
        if level is not None and level != current:
            raise Conflict(f"level：当前为{LEVEL_LABELS[current]}应急响应，终止的级别应为{LEVEL_LABELS[current]}",
                           extra={"field": "level"})
        return current
    if level is None:
        raise BadInput("level：应填写响应级别（Ⅰ、Ⅱ、Ⅲ、Ⅳ）", extra={"field": "level"})
    if action == "upgrade" and level >= current:
        raise Conflict(f"level：当前为{LEVEL_LABELS[current]}，提升应至更高级别（Ⅰ级最高），不能为{LEVEL_LABELS[level]}",
                       extra={"field": "level"})
    if action == "downgrade" and level <= current:
        raise Conflict(f"level：当前为{LEVEL_LABELS[current]}，降低应至更低级别（Ⅳ级最低），不能为{LEVEL_LABELS[level]}",
                       extra={"field": "level"})
    return level


def notice_title(template: str, action: str, level: int) -> str:
    """The notice's title from [response] template_title."""
    values = {"decision": TITLE_DECISIONS[action], "level": LEVEL_LABELS[level],
              "action": DECISION_LABELS[action]}
    return template.format_map(_Blank(values))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def notice_text(action: str, level: int, previous: int | None, decided_by: str, decided_at: datetime,
                actions: tuple[str, ...], note: str, zone: str) -> str:
    """A department's notice: what was decided, what it must do at the level, and the ack link slot."""
    when = display_time(decided_at, zone)
    label = LEVEL_LABELS[level]
    lines = [f"{RECIPIENT_SLOT}："]
    if action == "terminate":
        lines.append(f"经会商研判，{decided_by}决定于 {when} 终止防汛{label}应急响应，"
                     "各项应急响应措施相应解除，转入常态防御，请继续做好值守。")
    else:
        verb = {"activate": "启动", "upgrade": "提升至", "downgrade": "降低至"}[action]
        change = f"由{LEVEL_LABELS[previous]}" if previous else ""
        lines.append(f"经会商研判，{decided_by}决定于 {when} {change}{verb}防汛{label}应急响应。")
        if actions:
            lines.append(f"{label}应急响应下贵单位须落实：")
            lines += [f"{number}. {item}" for number, item in enumerate(actions, 1)]
        else:
            lines.append(f"{label}应急响应对贵单位无专项措施要求，原{LEVEL_LABELS.get(previous, '')}响应措施相应解除，"
                         "请继续加强值守。")
    if note:
        lines.append(f"说明：{note}")
    lines.append(f"请收到后点击确认（叫应）：{ACK_SLOT}")
    return "\n".join(lines)


def notice_departments(settings: Settings, action: str, level: int, previous: int | None) -> list[str]:
    """Who a notice goes to: the departments with actions at the level (terminate: at the level that ends);
    an upgrade or downgrade also tells the departments of the level before, whose measures change."""
    keys = list(_actions(settings, level))
    if action in ("upgrade", "downgrade") and previous is not None:
        keys += [key for key in _actions(settings, previous) if key not in keys]
    return [key for key in keys if key in settings.warnings.departments]


def _actions(settings: Settings, level: int) -> dict[str, tuple[str, ...]]:
    configured = settings.response.level(level)
    return dict(configured.actions) if configured else {}


@dataclass
class Notice:
    """The warnings row of a decision notice and the number of outbox rows written for it."""

    warning: Warning
    notifications: int


async def _write_notice(session: AsyncSession, settings: Settings, event: Event, number: int, action: str,
                        level: int, previous: int | None, last_notice: Warning | None, decided_by: str,
                        decided_at: datetime, note: str, actor: str, now: datetime) -> Notice:
    """The notice as a warning of source "response" (Alert, or an Update of the previous notice: one thread),
    with one notification per department desk, in the caller's transaction."""
    config = settings.warnings
    colour = LEVEL_COLOURS[level]
    title = notice_title(settings.response.template_title, action, level)
    references = () if action == "activate" or last_notice is None else (
        Reference(last_notice.sender, last_notice.identifier, last_notice.sent),)
    # A terminated response's notice thread ends by itself a day later (叫应 runs until then).
    expires = now + TERMINATED_NOTICE_LIFETIME if action == "terminate" else None
    notice = NormalisedWarning(
        identifier=f"fangxun-response-{event.id}-{number}", sender=NOTICE_SENDER, sent=now, status="Actual",
        msg_type="Update" if references else "Alert", scope="Restricted", references=references,
        event=NOTICE_EVENT, colour=colour, severity=LEVEL_SEVERITIES[level], urgency="Immediate",
        certainty="Observed", onset=decided_at, expires=expires, headline=title,
        description=f"{event.name}：{DECISION_LABELS[action]}{LEVEL_LABELS[level]}应急响应", instruction=note,
        sender_name=NOTICE_SENDER_NAME, language="zh-CN", areas=())
    row = Warning(
        identifier=notice.identifier, sender=notice.sender, sent=notice.sent, msg_type=notice.msg_type,
        cap_status=notice.status, scope=notice.scope, references=[r.as_json() for r in references],
        event=notice.event, colour=colour, severity=notice.severity, urgency=notice.urgency,
        certainty=notice.certainty, onset=notice.onset, expires=expires, headline=title,
        description=notice.description, instruction=note, sender_name=notice.sender_name,
        language=notice.language, areas=[],
        # The normalised form (what the CAP writer reads back), with the decision it announces.
        document={**notice.as_json(), "response": {"event_id": event.id, "action": action, "level": level,
                                                   "previous_level": previous, "decided_by": decided_by}},
        source=RESPONSE_SOURCE, status="active", received_at=now, entered_by=actor)
    session.add(row)
    await session.flush()
    referenced = [last_notice] if references else []
    row.thread_id = lifecycle.thread_for(referenced) or row.id
    await lifecycle.apply(session, row, referenced, now)

    messages, notices = {}, []
    for key in notice_departments(settings, action, level, previous):
        department = config.departments[key]
        desk = department_contact(department, "")
        actions = () if action == "terminate" else _actions(settings, level).get(key, ())
        template = f"response:{key}"
        messages[template] = [title, notice_text(action, level, previous, decided_by, decided_at, actions, note,
                                                 config.quiet_hours.timezone)]
        recipient = Recipient("department", key, f"{department.name}（{desk.name}）", None, None, desk.channel,
                              desk.address, template)
        payload = notice_payload(row, template, event_id=event.id, decision=action, level=level)
        notices.append(NewNotice(row.id, recipient, payload, notice_key(row.id, recipient)))
    row.messages = messages
    await session.flush()
    writer = await signed_writer(session, config.quiet_hours)
    await writer.write(session, notices, now)
    return Notice(row, len(notices))


async def decisions_of(session: AsyncSession, event_id: int) -> list[ResponseDecision]:
    """An event's decisions, oldest first."""
    return list((await session.execute(select(ResponseDecision).where(ResponseDecision.event_id == event_id)
                                       .order_by(ResponseDecision.decided_at, ResponseDecision.id))).scalars())


async def first_warning(session: AsyncSession, event_id: int) -> Warning | None:
    """The event's earliest received weather warning."""
    return (await session.execute(
        select(Warning).join(EventWarning, EventWarning.warning_id == Warning.id)
        .where(EventWarning.event_id == event_id, Warning.source != RESPONSE_SOURCE)
        .order_by(Warning.received_at, Warning.id).limit(1))).scalar_one_or_none()


def _text(value: object, field: str, label: str, limit: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput(f"{field}：{label}应为文字", extra={"field": field})
    value = value.strip()
    if required and not value:
        raise BadInput(f"{field}：应填写{label}", extra={"field": field})
    if len(value) > limit:
        raise BadInput(f"{field}：{label}不能超过 {limit} 个字", extra={"field": field})
    return value


def _check_time(decided_at: datetime, event: Event, history: list[ResponseDecision], now: datetime) -> None:
    if decided_at.tzinfo is None or decided_at.utcoffset() is None:
        raise BadInput("decided_at：决策时间应带时区", extra={"field": "decided_at"})
    if decided_at > now + FUTURE_SLACK:
        raise BadInput("decided_at：决策时间不能晚于当前时间", extra={"field": "decided_at"})
    if decided_at < event.started_at:
        raise BadInput(f"decided_at：决策时间不能早于事件开始时间（{display_time(event.started_at)}）",
                       extra={"field": "decided_at"})
    if history and decided_at < history[-1].decided_at:
        raise BadInput(f"decided_at：决策时间不能早于上一次决策（{display_time(history[-1].decided_at)}）",
                       extra={"field": "decided_at"})


async def record_decision(session: AsyncSession, settings: Settings, event_id: int, *, action: str,
                          level: object, decided_by: str, decided_at: datetime | None, note: str = "",
                          principal: Principal | str, now: datetime) -> ResponseDecision:
    """Check and record a decision with its notice to the departments, in the caller's transaction.

    The notice (a warnings row of source "response" and its notifications) is written first, then the
    decision row once, complete: the table is append-only in the database.
    """
    actor = principal if isinstance(principal, str) else principal.name
    event = (await session.execute(select(Event).where(Event.id == event_id).with_for_update())).scalar_one_or_none()
    if event is None:
        raise NotFound(f"事件 {event_id} 不存在")
    action = _text(action, "action", "决策类型", 20, True)
    number = None if level in (None, "") else parse_level(level)
    decided_by = _text(decided_by, "decided_by", "决策人", 100, True)
    note = _text(note, "note", "说明", MAX_NOTE, False)
    decided_at = now if decided_at is None else decided_at
    history = await decisions_of(session, event_id)
    current = level_after(history)
    number = check_transition(action, number, current)
    _check_time(decided_at, event, history, now)

    proposal: Proposal | None = await current_proposal(session, settings, event_id, now)
    if proposal is not None:
        trigger_id, trigger_at = proposal.trigger_warning_id, proposal.trigger_at
    else:
        first = await first_warning(session, event_id)
        trigger_id, trigger_at = (first.id, first.received_at) if first else (None, None)
    last_notice = None
    if history and history[-1].notice_warning_id is not None:
        last_notice = await session.get(Warning, history[-1].notice_warning_id)
    count = (await session.execute(select(func.count()).select_from(ResponseDecision)
                                   .where(ResponseDecision.event_id == event_id))).scalar_one()
    notice = await _write_notice(session, settings, event, count + 1, action, number, current, last_notice,
                                 decided_by, decided_at, note, actor, now)
    decision = ResponseDecision(
        event_id=event_id, action=action, level=number, previous_level=current,
        proposed_level=proposal.level if proposal else None, proposal_rule=proposal.rule if proposal else "",
        trigger_warning_id=trigger_id, trigger_at=trigger_at, decided_by=decided_by, decided_at=decided_at,
        recorded_by=actor, recorded_at=now, note=note, notice_warning_id=notice.warning.id)
    session.add(decision)
    await session.flush()
    await record(session, actor, f"response.{action}", "event", event_id, after={
        "decision_id": decision.id, "level": number, "previous_level": current, "decided_by": decided_by,
        "decided_at": decided_at.isoformat(), "proposed_level": decision.proposed_level,
        "proposal_rule": decision.proposal_rule, "notice_warning_id": notice.warning.id,
        "notifications": notice.notifications})
    return decision


async def decide(session: AsyncSession, settings: Settings, event_id: int, fields: Mapping[str, object], *,
                 principal: Principal | str, now: datetime) -> ResponseDecision:
    """Record a decision from the fields of the API body or of the page's form (action, level, decided_by,
    decided_at, note): one reading and one set of checks for both."""
    return await record_decision(
        session, settings, event_id, action=fields.get("action"), level=fields.get("level"),
        decided_by=fields.get("decided_by"), decided_at=parse_time(fields.get("decided_at"), "decided_at"),
        note=fields.get("note") or "", principal=principal, now=now)
