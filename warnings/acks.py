"""叫应: acknowledgement tokens, acknowledging, and reminders and escalation of unanswered notifications."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.accounts import signing_secret
from fangxun.errors import NotFound
from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.deadlines import AckState, escalation_target, next_step
from fangxun.warnings.outbox import N, compose, insert_notifications, new_notification
from fangxun.warnings.quiet_hours import release_time
from fangxun.warnings.recipients import NO_ADDRESS, person_address, plan_persons
from fangxun.warnings.tables import Notification, Warning

TOKEN_LENGTH = 16  # base64url characters: 96 bits
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16}$")
ACK_PATH = "/ack/"


def ack_token(secret: bytes, idempotency_key: str) -> str:
    """The notification's ack token: HMAC of its idempotency key, so a resend carries the same link."""
    digest = hmac.new(secret, b"ack:" + idempotency_key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256 (hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def ack_url(base_url: str, token: str) -> str:
    """The link a recipient opens to acknowledge."""
    return base_url.rstrip("/") + ACK_PATH + token


async def find_by_token(session: AsyncSession, token: str) -> Notification:
    """The notification of an ack token; NotFound for a malformed or unknown one."""
    if not _TOKEN.match(token or ""):
        raise NotFound("确认链接无效")
    row = (await session.execute(
        select(Notification).where(Notification.ack_token_hash == token_hash(token)))).scalar_one_or_none()
    if row is None:
        raise NotFound("确认链接无效或已过期")
    return row


async def acknowledge(session: AsyncSession, token: str, now: datetime, via: str) -> Notification:
    """Record 叫应 for the token's notification (idempotent; after the deadline it counts, flagged late).

    Acknowledging a reminder answers the notification it repeats, and the other way round; reminders
    not yet sent are then cancelled.
    """
    notification = await find_by_token(session, token)
    if notification.acked_at is not None:
        return notification
    origin = notification.escalated_from_id if notification.purpose == "reminder" else notification.id
    group = or_(N.c.id == origin, and_(N.c.escalated_from_id == origin, N.c.purpose == "reminder"))
    # Each row's own deadline decides whether its answer was late.
    late = and_(N.c.ack_deadline.is_not(None), N.c.ack_deadline < now)
    await session.execute(update(N).where(group, N.c.acked_at.is_(None), N.c.status != "pending")
                          .values(acked_at=now, acked_via=via, acked_late=late))
    await session.execute(update(N).where(N.c.id == notification.id, N.c.acked_at.is_(None))
                          .values(acked_at=now, acked_via=via, acked_late=late))
    await session.execute(update(N).where(group, N.c.id != notification.id, N.c.status == "pending")
                          .values(status="cancelled", last_error="已叫应，无需再提醒"))
    await session.refresh(notification)
    return notification


@dataclass(frozen=True)
class _Target:
    kind: str
    key: str
    name: str
    unit_code: str | None
    level: str | None
    channel: str
    address: str


async def _targets(session: AsyncSession, source, kind: str, who: str, settings: Settings) -> list[_Target]:
    """The people an escalation step reaches; empty when nobody of that kind is on record."""
    config = settings.warnings
    if kind == "duty_desk":
        desk = config.escalation.city_duty_desk
        return [_Target("duty_desk", "city", desk.name, None, "city", desk.channel, desk.address)]
    if kind == "department_leader":
        leader = config.departments[who].leader
        return [_Target("department_leader", who, f"{config.departments[who].name}（{leader.name}）", None, who,
                        leader.channel, leader.address)]
    unit = await session.get(AdminUnit, source.unit_code) if source.unit_code else None
    code = getattr(unit, f"{who}_code", None) if unit is not None else None
    if not code:
        return []
    channel = source.channel
    channel_kind = config.channels[channel].kind if channel in config.channels else ""
    return [_Target("person", f"{code}:{p.id}", p.name, code, who, channel,
                    person_address(p.channels, p.phone, channel, channel_kind))
            for p in await plan_persons(session, [code])]


def _state(row, colour: str | None, last_reminder) -> AckState:
    failed = row.status in ("failed", "dead")
    delivered = row.delivered_at
    if row.reminders_sent and last_reminder is not None:
        failed = last_reminder.status in ("failed", "dead")
        delivered = last_reminder.delivered_at
    return AckState(colour=colour, recipient_kind=row.recipient_kind,
                    level=row.level if row.recipient_kind == "person" else
                    ("city" if row.recipient_kind == "duty_desk" else row.recipient_key),
                    delivered_at=delivered, reminders=row.reminders_sent, escalated=row.escalated_at is not None,
                    acked_at=row.acked_at, unreachable=failed, escalation_step=row.escalation_step)


def _derived(source, now: datetime, colour: str | None, settings: Settings, secret: bytes, *, key: str,
             purpose: str, title: str, text: str, target: _Target | None = None, step: int | None = None) -> dict:
    """A new outbox row derived from `source`: a reminder to the same recipient, or an escalation."""
    who = target or _Target(source.recipient_kind, source.recipient_key, source.recipient_name, source.unit_code,
                            source.level, source.channel, source.address)
    payload = {**source.payload, "title": title, "text": text, "purpose": purpose}
    payload.pop("message", None)
    if target is not None:
        payload.pop("role", None)
    return new_notification(
        warning_id=source.warning_id, kind=who.kind, key=who.key, name=who.name, unit_code=who.unit_code,
        level=who.level, channel=who.channel, address=who.address, payload=payload, idempotency_key=key,
        ack_token_hash=token_hash(ack_token(secret, key)), now=now,
        due_at=release_time(colour, now, settings.warnings.quiet_hours) or now, purpose=purpose,
        step=source.escalation_step if step is None else step, escalated_from_id=source.id,
        problem=None if who.address or who.kind != "person" else NO_ADDRESS)


async def escalate_due(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Remind and escalate unanswered notifications of active warnings; returns rows created.

    Candidates are notices and escalations not yet answered nor escalated whose deadline passed, or
    whose delivery failed for good. Each decision is guarded by a conditional UPDATE of the source
    row, so a second run (or a concurrent one) creates nothing twice.
    """
    rows = (await session.execute(
        select(Notification, Warning.colour, Warning.messages)
        .join(Warning, Warning.id == Notification.warning_id)
        .where(Warning.status == "active", Warning.msg_type != "Cancel",
               Notification.purpose.in_(("notice", "escalation")), Notification.acked_at.is_(None),
               Notification.escalated_at.is_(None),
               or_(Notification.ack_deadline <= now, Notification.status.in_(("failed", "dead"))))
        .order_by(Notification.id))).all()
    if not rows:
        return 0
    ids = [row.id for row, _, _ in rows]
    reminders = {}
    for part in range(0, len(ids), 1000):
        for reminder in (await session.execute(
                select(Notification).where(Notification.escalated_from_id.in_(ids[part:part + 1000]),
                                           Notification.purpose == "reminder")
                .order_by(Notification.id))).scalars():
            reminders[reminder.escalated_from_id] = reminder  # the latest one wins
    secret = await signing_secret(session)
    created: list[dict] = []
    for row, colour, messages in rows:
        step = next_step(_state(row, colour, reminders.get(row.id)), now, settings.warnings)
        title, text = compose(row.payload, messages, row.recipient_name)
        if step.action == "remind":
            number = row.reminders_sent + 1
            if not await _claim_source(session, row.id, N.c.reminders_sent == row.reminders_sent,
                                       reminders_sent=number):
                continue
            created.append(_derived(row, now, colour, settings, secret, key=f"fx-{row.warning_id}-n{row.id}-r{number}",
                                    purpose="reminder", title=f"【第{number}次提醒·请叫应】{title}", text=text))
        elif step.action == "escalate":
            if not await _claim_source(session, row.id, N.c.escalated_at.is_(None), escalated_at=now):
                continue
            created += await _escalation_rows(session, row, colour, step, now, settings, secret, title, text)
    if created:
        await insert_notifications(session, created)
    return len(created)


async def _claim_source(session: AsyncSession, source_id: int, guard, **values) -> bool:
    result = await session.execute(update(N).where(N.c.id == source_id, guard).values(**values))
    return result.rowcount == 1


async def _escalation_rows(session: AsyncSession, row, colour, step, now: datetime, settings: Settings,
                           secret: bytes, title: str, text: str) -> list[dict]:
    """Rows for the first level up that has someone on record (a unit without 责任人 is skipped over)."""
    target, number = step.target, step.escalation_step
    while target is not None:
        kind, who = target
        if kind == "duty_desk" and not (settings.warnings.escalation and settings.warnings.escalation.enabled):
            return []
        found = await _targets(session, row, kind, who, settings)
        if found:
            break
        target = escalation_target(kind, who)
        number += 1
    else:
        return []
    reason = "逾期未叫应" if row.status not in ("failed", "dead") else "无法送达"
    title = f"【{reason}·逐级上报】{title}"
    text = f"{row.recipient_name} 收到的预警{reason}，现报告您，请督促落实并点击确认（叫应）。\n\n{text}"
    return [_derived(row, now, colour, settings, secret, purpose="escalation", title=title, text=text, target=t,
                     step=number, key=f"fx-{row.warning_id}-n{row.id}-e{number}-{t.kind}-{t.key}-{t.channel}")
            for t in found]
