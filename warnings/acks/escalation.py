"""叫应: acknowledgement tokens, acknowledging, and reminders and escalation of unanswered notifications."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.accounts import signing_secret
from fangxun.core.errors import NotFound
from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.delivery.outbox import N, insert_notifications, new_notification
from fangxun.warnings.routing.deadlines import AckState, escalation_target, next_step
from fangxun.warnings.routing.quiet_hours import release_time
from fangxun.warnings.routing.recipients import NO_ADDRESS, person_address, plan_persons
from fangxun.warnings.tables import Notification, Warning

TOKEN_LENGTH = 16  # base64url characters: 96 bits
MAX_NAMES = 20  # unanswered recipients named in one escalation message
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16}$")
ACK_PATH = "/ack/"
# An unanswered notification with nobody above it is looked at again after this (a changed
# configuration may since allow escalation).
EXHAUSTED_RECHECK = timedelta(days=1)


def ack_token(secret: bytes, idempotency_key: str) -> str:
    """The notification's ack token: HMAC of its idempotency key, so a resend carries the same link."""
    digest = hmac.digest(secret, b"ack:" + idempotency_key.encode(), "sha256")
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


class _Targets:
    """Who each escalation step reaches, looked up once per unit and channel within one run."""

    def __init__(self, session: AsyncSession, settings: Settings):
        self.session, self.config = session, settings.warnings
        self._units: dict[str, AdminUnit | None] = {}
        self._persons: dict[tuple[str, str, str], list[_Target]] = {}

    async def of(self, source, kind: str, who: str) -> list[_Target]:
        """The people step (kind, who) above `source` reaches; empty when nobody is on record."""
        config = self.config
        if kind == "duty_desk":
            desk = config.escalation.city_duty_desk
            return [_Target("duty_desk", "city", desk.name, None, "city", desk.channel, desk.address)]
        if kind == "department_leader":
            department = config.departments.get(who)
            if department is None:  # a department since removed from the configuration
                return []
            leader = department.leader
            return [_Target("department_leader", who, f"{department.name}（{leader.name}）", None, who,
                            leader.channel, leader.address)]
        if not source.unit_code:
            return []
        if source.unit_code not in self._units:
            self._units[source.unit_code] = await self.session.get(AdminUnit, source.unit_code)
        unit = self._units[source.unit_code]
        code = getattr(unit, f"{who}_code", None) if unit is not None else None
        if not code:
            return []
        key = (who, code, source.channel)
        if key not in self._persons:
            channel = source.channel
            channel_kind = config.channels[channel].kind if channel in config.channels else ""
            self._persons[key] = [_Target("person", f"{code}:{p.id}", p.name, code, who, channel,
                                          person_address(p.channels, p.phone, channel, channel_kind))
                                  for p in await plan_persons(self.session, [code])]
        return self._persons[key]


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
             purpose: str, title_prefix: str, note: str = "", target: _Target | None = None,
             step: int | None = None, sources: list[int] | None = None) -> dict:
    """A new outbox row derived from `source`: a reminder to the same recipient, or an escalation.

    It keeps the source's message (its template on the warning) and adds a title prefix and a lead
    note, so a chain of escalations never nests one text inside another.
    """
    who = target or _Target(source.recipient_kind, source.recipient_key, source.recipient_name, source.unit_code,
                            source.level, source.channel, source.address)
    payload = {key_: value for key_, value in source.payload.items()
               if key_ not in ("title_prefix", "note", "role", "escalated_from_ids")}
    payload.update(purpose=purpose, title_prefix=title_prefix)
    if note:
        payload["note"] = note
    if target is None and "role" in source.payload:
        payload["role"] = source.payload["role"]
    if sources:
        payload["escalated_from_ids"] = sources
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
    whose delivery failed for good; deadlines.next_step decides for each. Escalations to the same
    person in one run are one message naming everyone who did not answer (a whole township's
    villages make one message to each township 责任人, not one per village person).
    """
    rows = (await session.execute(
        select(Notification, Warning.colour)
        .join(Warning, Warning.id == Notification.warning_id)
        .where(Warning.status == "active", Warning.msg_type != "Cancel",
               Notification.purpose.in_(("notice", "escalation")), Notification.acked_at.is_(None),
               Notification.escalated_at.is_(None),
               or_(Notification.ack_check_after.is_(None), Notification.ack_check_after <= now),
               or_(Notification.ack_deadline <= now, Notification.status.in_(("failed", "dead"))))
        .order_by(Notification.id))).all()
    if not rows:
        return 0
    ids = [row.id for row, _ in rows]
    reminders = {}
    for part in range(0, len(ids), 1000):
        for reminder in (await session.execute(
                select(Notification).where(Notification.escalated_from_id.in_(ids[part:part + 1000]),
                                           Notification.purpose == "reminder")
                .order_by(Notification.id))).scalars():
            reminders[reminder.escalated_from_id] = reminder  # the latest one wins
    decided = [(row, colour, next_step(_state(row, colour, reminders.get(row.id)), now, settings.warnings))
               for row, colour in rows]
    # Each decision is taken by a conditional UPDATE of its source row: a repeated or concurrent run
    # finds the condition false and creates nothing twice.
    by_count: dict[int, list[int]] = {}
    for row, _, step in decided:
        if step.action == "remind":
            by_count.setdefault(row.reminders_sent, []).append(row.id)
    reminding: set[int] = set()
    for count, ids_ in by_count.items():
        reminding |= await _take(session, ids_, N.c.reminders_sent == count, reminders_sent=count + 1)
    escalating = await _take(session, [row.id for row, _, step in decided if step.action == "escalate"],
                             N.c.escalated_at.is_(None), escalated_at=now)
    await _check_later(session, decided, now)

    secret = await signing_secret(session)
    created: list[dict] = []
    groups: dict[tuple, list] = {}
    targets = _Targets(session, settings)
    for row, colour, step in decided:
        if row.id in reminding:
            number = row.reminders_sent + 1
            created.append(_derived(row, now, colour, settings, secret, key=f"fx-{row.warning_id}-n{row.id}-r{number}",
                                    purpose="reminder", title_prefix=f"【第{number}次提醒·请叫应】"))
        elif row.id in escalating:
            number, found = await _escalation_targets(targets, row, step, settings)
            reason = "无法送达" if row.status in ("failed", "dead") else "逾期未叫应"
            for target in found:
                groups.setdefault((row.warning_id, number, reason, target), []).append((row, colour))
    for (warning_id, number, reason, target), sources in groups.items():
        first, colour = sources[0]
        names = "、".join(source.recipient_name for source, _ in sources[:MAX_NAMES])
        more = f"等 {len(sources)} 人" if len(sources) > MAX_NAMES else ""
        note = f"{names}{more} 收到预警后{reason}，现报告您，请督促落实并点击确认（叫应）。"
        key = f"fx-{warning_id}-e{number}-{target.kind}-{target.key}-{target.channel}-n{first.id}"
        created.append(_derived(first, now, colour, settings, secret, key=key, purpose="escalation",
                                title_prefix=f"【{reason}·逐级上报】", note=note, target=target, step=number,
                                sources=[source.id for source, _ in sources]))
    if created:
        await insert_notifications(session, created)
    return len(created)


async def _check_later(session: AsyncSession, decided: list, now: datetime) -> None:
    """Rows waiting on a reminder's deadline, or with nobody left above them, are not read again
    before that deadline (or for a day): an unanswered city-wide warning is not rescanned every run."""
    later = {row.id: step.at for row, _, step in decided if step.action == "wait" and step.at is not None}
    later |= {row.id: now + EXHAUSTED_RECHECK for row, _, step in decided if step.action == "exhausted"}
    if later:
        await session.execute(update(N).where(N.c.id == bindparam("b_id")).values(ack_check_after=bindparam("b_at")),
                              [{"b_id": key, "b_at": at} for key, at in later.items()])


async def _take(session: AsyncSession, ids: list[int], condition, **values) -> set[int]:
    """UPDATE the rows of `ids` still meeting `condition`; the ids that were updated."""
    taken: set[int] = set()
    for start in range(0, len(ids), 1000):
        result = await session.execute(update(N).where(N.c.id.in_(ids[start:start + 1000]), condition)
                                       .values(**values).returning(N.c.id))
        taken.update(result.scalars())
    return taken


async def _escalation_targets(targets: _Targets, row, step, settings: Settings) -> tuple[int, list[_Target]]:
    """The step number and people of the first level up with someone on record (empty levels are skipped)."""
    target, number = step.target, step.escalation_step
    enabled = settings.warnings.escalation is not None and settings.warnings.escalation.enabled
    while target is not None:
        kind, who = target
        if kind == "duty_desk" and not enabled:
            break
        found = await targets.of(row, kind, who)
        if found:
            return number, found
        target = escalation_target(kind, who)
        number += 1
    return number, []
