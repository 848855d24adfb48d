"""A drill's reminders and escalations: only inside the drill (its scope, marked 【演练】, tied to it), and only
until its follow-up window closes; then the drill is finished and what it has not sent is cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings.acks.escalation import _Targets, escalation_notices, reminder_prefix
from fangxun.warnings.delivery.notices import (NewNotice, check_later, follow_up_payload, signed_writer,
                                               take_escalations, take_reminders)
from fangxun.warnings.delivery.outbox import cancel_drill_unsent
from fangxun.warnings.drills.rules import DrillStep, drill_step, follow_up_ends, within_scope
from fangxun.warnings.routing.deadlines import escalation_target
from fangxun.warnings.routing.recipients import Recipient
from fangxun.warnings.tables import Drill, Notification

FINISHED = "演练已结束"
CALLED_OFF = "演练已取消"
MAX_NAMES = 20


def drill_escalation_note(names: list[str], reason: str) -> str:
    """The lead note of a drill's escalation: who did not answer the drill message, and why."""
    more = f"等 {len(names)} 人" if len(names) > MAX_NAMES else ""
    return f"{'、'.join(names[:MAX_NAMES])}{more} 收到演练消息后{reason}，现按演练流程报告您，请点击确认（叫应）。"


def _level(row) -> str:
    if row.recipient_kind == "person":
        return row.level or ""
    return "city" if row.recipient_kind == "duty_desk" else row.recipient_key


def _recipient(row, address: str | None = None) -> Recipient:
    return Recipient(row.recipient_kind, row.recipient_key, row.recipient_name, row.unit_code, row.level,
                     row.channel, row.address if address is None else address, "")


async def _close_ended(session: AsyncSession, drills: list[Drill], now: datetime, repeats: int) -> list[Drill]:
    """Finish the drills whose follow-up window has closed (their unsent rows cancelled); the others."""
    running = []
    for drill in drills:
        if now < follow_up_ends(drill.started_at, drill.deadline_minutes, repeats):
            running.append(drill)
            continue
        drill.finished_at = now
        await cancel_drill_unsent(session, drill.id, now, FINISHED)
    return running


async def cancel_drill(session: AsyncSession, drill: Drill, now: datetime) -> int:
    """Call a drill off: its unsent messages cancelled, no more reminders or escalations; how many cancelled."""
    if drill.cancelled_at is None and drill.finished_at is None:
        drill.cancelled_at = now
    return await cancel_drill_unsent(session, drill.id, now, CALLED_OFF)


async def follow_up_drills(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Remind and escalate the unanswered messages of running drills inside their scope; the rows created."""
    repeats = settings.warnings.repeat_before_escalate
    drills = (await session.execute(select(Drill).where(Drill.finished_at.is_(None), Drill.cancelled_at.is_(None))
                                    .with_for_update())).scalars().all()
    drills = await _close_ended(session, list(drills), now, repeats)
    if not drills:
        return 0
    by_id = {drill.id: drill for drill in drills}
    scope_levels = {row.code: row.level for row in (await session.execute(
        select(AdminUnit.code, AdminUnit.level).where(AdminUnit.code.in_({d.scope_code for d in drills})))).all()}
    rows = (await session.execute(
        select(Notification).where(
            Notification.drill_id.in_(list(by_id)), Notification.purpose.in_(("notice", "escalation")),
            Notification.acked_at.is_(None), Notification.escalated_at.is_(None),
            or_(Notification.ack_check_after.is_(None), Notification.ack_check_after <= now),
            or_(Notification.ack_deadline <= now, Notification.status.in_(("failed", "dead"))))
        .order_by(Notification.id))).scalars().all()
    if not rows:
        return 0
    latest: dict[int, Notification] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), 1000):
        for reminder in (await session.execute(
                select(Notification).where(Notification.escalated_from_id.in_(ids[start:start + 1000]),
                                           Notification.purpose == "reminder").order_by(Notification.id))).scalars():
            latest[reminder.escalated_from_id] = reminder
    decided: list[tuple[Notification, DrillStep, tuple | None]] = []
    for row in rows:
        scope_level = scope_levels.get(by_id[row.drill_id].scope_code, "city")
        target = _target_in_scope(row, scope_level)
        last = latest.get(row.id) if row.reminders_sent else row
        last = last or row
        step = drill_step(answered=False, escalated=False, unreachable=last.status in ("failed", "dead"),
                          delivered_at=last.delivered_at, ack_deadline=last.ack_deadline,
                          reminders=row.reminders_sent, repeats=repeats, can_escalate=target is not None, now=now)
        decided.append((row, step, target))
    reminding = await take_reminders(session, {row.id: row.reminders_sent for row, step, _ in decided
                                               if step.action == "remind"})
    escalating = await take_escalations(session, [row.id for row, step, _ in decided if step.action == "escalate"],
                                        now)
    later = {row.id: step.at for row, step, _ in decided if step.action == "wait" and step.at is not None}
    later |= {row.id: now + timedelta(days=1) for row, step, _ in decided if step.action == "exhausted"}
    await check_later(session, later)
    created: list[NewNotice] = []
    groups: dict[tuple, list] = {}
    targets = _Targets(session, settings, now)
    for row, step, target in decided:
        if row.id in reminding:
            number = row.reminders_sent + 1
            payload = follow_up_payload(row.payload, "reminder", reminder_prefix(number), keep_role=True)
            created.append(NewNotice(None, _recipient(row), payload, f"drill-{row.drill_id}-n{row.id}-r{number}",
                                     "reminder", row.escalation_step, row.id, row.drill_id))
        elif row.id in escalating:
            number, found = await _people(targets, row, target, scope_levels.get(
                by_id[row.drill_id].scope_code, "city"))
            reason = "无法送达" if row.status in ("failed", "dead") else "逾期未叫应"
            for person in found:
                groups.setdefault((row.drill_id, number, reason, person), []).append(row)
    created += escalation_notices(groups, drill_escalation_note, drill=True)
    if created:
        writer = await signed_writer(session, settings.warnings.quiet_hours)
        await writer.write(session, created, now)
    return len(created)


def _target_in_scope(row, scope_level: str) -> tuple | None:
    """The first escalation target above `row` inside the drill's scope, or None (the chain leaves the scope)."""
    target = escalation_target(row.recipient_kind, _level(row))
    if target is None or not within_scope(target, scope_level):
        return None
    return target


async def _people(targets: _Targets, row, target: tuple, scope_level: str) -> tuple[int, list[Recipient]]:
    """The step number and people of the first level up (inside the scope) with someone on record."""
    number = row.escalation_step + 1
    while target is not None and within_scope(target, scope_level):
        found = await targets.of(row, *target)
        if found:
            return number, found
        target = escalation_target(*target)
        number += 1
    return number, []
