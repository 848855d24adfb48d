"""Reminders and escalation of unanswered notifications (叫应 up the chain); rows are made by delivery.notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, case, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.absence_queries import absences_in_force
from fangxun.plans.absence_rules import with_stand_ins
from fangxun.plans.contact_queries import plan_persons
from fangxun.plans.models import AdminUnit
from fangxun.settings import Settings
from fangxun.warnings import telemetry
from fangxun.warnings.acks.redialling import (decide, deputy_note, redial_prefix, redial_recipient, sequences,
                                              voice_channels)
from fangxun.warnings.delivery.notices import (NewNotice, check_later, drill_escalation_key, escalation_key,
                                               follow_up_payload, reminder_key, signed_writer, take_escalations,
                                               take_reminders)
from fangxun.warnings.duty.roster_queries import on_duty_now
from fangxun.warnings.duty.roster_rules import CITY_DESK, DutyShift
from fangxun.warnings.routing.deadlines import AckState, Step, answered_by_group, asks_ack, escalation_target, next_step
from fangxun.warnings.routing.duty_desks import leader_on_duty, roster_desk, staffed
from fangxun.warnings.routing.recipients import NO_ADDRESS, Recipient, duty_line, person_address
from fangxun.warnings.tables import Notification, Warning

N = Notification.__table__
MAX_NAMES = 20  # unanswered recipients named in one escalation message
# An unanswered notification with nobody above it is looked at again after this (a changed
# configuration may since allow escalation).
EXHAUSTED_RECHECK = timedelta(days=1)


def reminder_prefix(number: int) -> str:
    """The title prefix of the `number`th reminder."""
    return f"【第{number}次提醒·请叫应】"


def escalation_prefix(reason: str) -> str:
    """The title prefix of an escalation for `reason` (逾期未叫应, 无法送达)."""
    return f"【{reason}·逐级上报】"


def escalation_note(names: list[str], reason: str) -> str:
    """The lead note of an escalation: who did not answer (the first MAX_NAMES of them), and why."""
    more = f"等 {len(names)} 人" if len(names) > MAX_NAMES else ""
    return f"{'、'.join(names[:MAX_NAMES])}{more} 收到预警后{reason}，现报告您，请督促落实并点击确认（叫应）。"


def follow_up_recipient(kind: str, key: str, name: str, unit_code: str | None, level: str | None, channel: str,
                        address: str, duty: str = "") -> Recipient:
    """Whom a reminder or escalation goes to (with what they answer for); a person without an address cannot
    be reached (born failed)."""
    return Recipient(kind, key, name, unit_code, level, channel, address, "", None,
                     None if address or kind != "person" else NO_ADDRESS, duty)


def _recipient_of(row: Notification) -> Recipient:
    return follow_up_recipient(row.recipient_kind, row.recipient_key, row.recipient_name, row.unit_code, row.level,
                               row.channel, row.address)


class _Targets:
    """Who each escalation step reaches, looked up once per unit and channel within one run; the desks' shifts on
    duty at `now` read once per run, when first needed."""

    def __init__(self, session: AsyncSession, settings: Settings, now: datetime):
        self.session, self.config, self.now = session, settings.warnings, now
        self._units: dict[str, AdminUnit | None] = {}
        self._persons: dict[tuple[str, str, str], list[Recipient]] = {}
        self._absences: tuple | None = None
        self._on_duty: dict[str, DutyShift | None] | None = None

    async def _persons_of(self, code: str) -> list:
        """The persons of unit `code`, an absent one replaced by their stand-in at `now` (absences read once a run)."""
        persons = await plan_persons(self.session, [code])
        if self._absences is None:
            self._absences = await absences_in_force(self.session, self.now)
        away, named = self._absences
        return with_stand_ins(persons, away, named, self.config.quiet_hours.timezone)

    async def on_duty(self, desk: str) -> DutyShift | None:
        """The roster line of `desk` covering this run's moment (None: nobody rostered, the configured contact)."""
        if self._on_duty is None:
            desks = [CITY_DESK, *self.config.departments]
            self._on_duty = await on_duty_now(self.session, desks, self.now, self.config.duty)
        return self._on_duty.get(desk)

    async def at_desk(self, recipient: Recipient) -> Recipient:
        """A desk recipient addressed to whoever is on duty now (routing/duty_desks.staffed); anyone else as is."""
        desk = roster_desk(recipient.kind, recipient.key)
        return staffed(recipient, self.config, await self.on_duty(desk)) if desk else recipient

    async def of(self, source, kind: str, who: str) -> list[Recipient]:
        """The people step (kind, who) above `source` reaches; empty when nobody is on record."""
        config = self.config
        if kind == "duty_desk":
            desk = config.escalation.city_duty_desk
            return [await self.at_desk(follow_up_recipient("duty_desk", "city", desk.name, None, "city", desk.channel,
                                                           desk.address))]
        if kind == "department_leader":
            department = config.departments.get(who)
            if department is None:  # a department since removed from the configuration
                return []
            leader = department.leader
            name, address = leader_on_duty(department.name, leader, config, await self.on_duty(who))
            return [follow_up_recipient("department_leader", who, name, None, who, leader.channel, address)]
        if kind == "duty_leader":  # the city duty room's 带班领导: only a roster names one
            line = await self.on_duty(CITY_DESK)
            if line is None:
                return []
            desk = config.escalation.city_duty_desk
            name, address = leader_on_duty(desk.name, desk, config, line)
            return [follow_up_recipient("duty_leader", "city", name, None, "city", desk.channel, address)]
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
            self._persons[key] = [follow_up_recipient("person", f"{code}:{p.id}", p.name, code, who, channel,
                                                      person_address(p.channels, p.phone, channel, channel_kind),
                                                      duty_line(p.unit_name, p.role, p.plan_title, p.stands_in))
                                  for p in await self._persons_of(code)]
        return self._persons[key]


def group_key(row) -> tuple:
    """The group a notification answers with (one answer may stand for all of it): its warning, escalation
    step and kind, and its unit (persons) or desk."""
    return (row.warning_id, row.escalation_step, row.recipient_kind,
            row.unit_code if row.recipient_kind == "person" else row.recipient_key)


async def answered_groups(session: AsyncSession, warning_ids: set[int]) -> set[tuple]:
    """The groups (group_key) of these warnings in which someone acknowledged a notice or escalation."""
    found: set[tuple] = set()
    ids = sorted(warning_ids)
    for start in range(0, len(ids), 1000):
        found |= {group_key(row) for row in (await session.execute(
            select(Notification.warning_id, Notification.escalation_step, Notification.recipient_kind,
                   Notification.unit_code, Notification.recipient_key)
            .where(Notification.warning_id.in_(ids[start:start + 1000]), Notification.acked_at.is_not(None),
                   Notification.purpose.in_(("notice", "escalation"))).distinct())).all()}
    return found


def _state(row, colour: str | None, last_reminder, group_answered: bool = False, all_clear: bool = False) -> AckState:
    failed = row.status in ("failed", "dead")
    delivered = row.delivered_at
    if row.reminders_sent and last_reminder is not None:
        failed = last_reminder.status in ("failed", "dead")
        delivered = last_reminder.delivered_at
    return AckState(colour=colour, recipient_kind=row.recipient_kind,
                    level=row.level if row.recipient_kind == "person" else
                    ("city" if row.recipient_kind in ("duty_desk", "duty_leader") else row.recipient_key),
                    delivered_at=delivered, reminders=row.reminders_sent, escalated=row.escalated_at is not None,
                    acked_at=row.acked_at, unreachable=failed, escalation_step=row.escalation_step,
                    group_answered=group_answered, all_clear=all_clear)


def _followed_up(settings: Settings):
    """SQL: the warnings whose notices are reminded, redialled and escalated: those in force, and all-clears
    only when they ask for 叫应 (deadlines.asks_ack; by default an all-clear only informs)."""
    in_force = and_(Warning.status == "active", Warning.all_clear.is_(False))
    return or_(in_force, Warning.all_clear.is_(True)) if asks_ack(True, settings.warnings) else in_force


# A pass looks at this many candidate rows at a time (see waves.run_pass: one transaction each, the event loop
# free between them): a province-wide wave of 77,000 reminders never holds a transaction or the loop for long
# (each stretch of work between two queries of a chunk takes some 10–20 ms).
ROWS_PER_CHUNK = 500


def _due(settings: Settings, now: datetime, calling: list[str], unanswered=None) -> tuple:
    """SQL conditions of a candidate: a notice or escalation of a followed-up warning, not yet answered nor
    escalated, not put off, whose deadline passed or whose delivery failed for good (calls: any time)."""
    return (_followed_up(settings),
            Notification.purpose.in_(("notice", "escalation")),
            Notification.acked_at.is_(None) if unanswered is None else unanswered,
            Notification.escalated_at.is_(None),
            or_(Notification.ack_check_after.is_(None), Notification.ack_check_after <= now),
            or_(Notification.ack_deadline <= now, Notification.status.in_(("failed", "dead")),
                # calls are redialled before their deadline (by colour, see redial_step)
                Notification.channel.in_(calling) if calling else false()))


def _still_due_by_id(settings: Settings, now: datetime, calling: list[str], ids: list[int]) -> tuple:
    """SQL: the rows of `ids` still due (_due), found by primary key whatever the statistics say. Right after a
    fan-out they are stale, and PostgreSQL would walk every row of the warning through ix_notifications_warning_id
    or ix_notifications_ack_due instead (1–2 s a chunk of a 77,000-row wave instead of 50 ms); written so that
    neither index serves these conditions (the warning is joined on warning_id + 0)."""
    unanswered = case((N.c.acked_at.is_(None), 1), else_=0) == 1
    return (N.c.id.in_(ids), *_due(settings, now, calling, unanswered))


async def due_ids(session: AsyncSession, now: datetime, settings: Settings,
                  size: int = ROWS_PER_CHUNK) -> list[list[int]]:
    """The ids of the candidates of a pass at `now`, in chunks of about `size` (only ids: a wave's rows are
    read a chunk at a time). Rows that escalate to the same people (same warning and step, units under the same
    parent, or the same desk) stay in one chunk, so they make one message naming them all."""
    rows = (await session.execute(
        select(Notification.id, Notification.warning_id, Notification.escalation_step, Notification.recipient_kind,
               Notification.recipient_key, AdminUnit.parent_code)
        .join(Warning, Warning.id == Notification.warning_id)
        .outerjoin(AdminUnit, AdminUnit.code == Notification.unit_code)
        .where(*_due(settings, now, voice_channels(settings))))).all()
    keyed = sorted(((row.warning_id, row.escalation_step, row.recipient_kind,
                     row.parent_code if row.recipient_kind == "person" else row.recipient_key) or "", row.id)
                   for row in rows)
    return chunks_by_group(keyed, size)


def chunks_by_group(keyed: list[tuple[tuple, int]], size: int) -> list[list[int]]:
    """Ids (each beside its group, sorted by group) in chunks of `size`, a chunk running on to its group's end."""
    chunks: list[list[int]] = []
    current: list[int] = []
    last = None
    for group, row_id in keyed:
        if len(current) >= size and group != last:
            chunks.append(current)
            current = []
        current.append(row_id)
        last = group
    if current:
        chunks.append(current)
    return chunks


async def escalate_due(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Remind and escalate unanswered notifications of active warnings, all in the caller's transaction (a
    chunk of candidates at a time); returns rows created. The scheduler's pass is waves.run_pass."""
    wave = FollowUpPass(settings, now)
    created = 0
    for chunk in await due_ids(session, now, settings):
        created += await wave.chunk(session, chunk)
    return created


class FollowUpPass:
    """One pass of reminders and escalations at `now`, made a chunk of candidates at a time. What the chunks
    share is read once a pass: the people above each unit, the desks on duty, the groups of each warning that
    answered, the signing secret.

    Candidates are notices and escalations not yet answered nor escalated whose deadline passed, or
    whose delivery failed for good; deadlines.next_step decides for each. Escalations to the same
    person in one chunk are one message naming everyone who did not answer (a whole township's
    villages make one message to each township 责任人, not one per village person); due_ids keeps such rows in
    one chunk.
    """

    def __init__(self, settings: Settings, now: datetime):
        self.settings, self.now = settings, now
        self.calling = voice_channels(settings)
        self.targets: _Targets | None = None
        self.answered: set[tuple] = set()  # group_key of the answered groups of the warnings in `read`
        self.read: set[int] = set()
        self.writer = None

    async def _answered(self, session: AsyncSession, warning_ids: set[int]) -> set[tuple]:
        """The answered groups (group_key), those of each warning read at its first chunk."""
        if "one" in self.settings.warnings.group_answer and warning_ids - self.read:
            self.answered |= await answered_groups(session, warning_ids - self.read)
            self.read |= warning_ids
        return self.answered

    async def chunk(self, session: AsyncSession, ids: list[int]) -> int:
        """Remind and escalate the rows of `ids` still due, in `session`'s transaction; returns rows created."""
        settings, now, calling = self.settings, self.now, self.calling
        # Plain rows, not ORM objects: a wave reads tens of thousands, and an object costs ten times a row.
        found_rows = (await session.execute(
            select(N, Warning.colour.label("warning_colour"), Warning.all_clear.label("warning_all_clear"))
            .join(Warning, Warning.id == N.c.warning_id + 0)
            .where(*_still_due_by_id(settings, now, calling, ids))
            .order_by(N.c.id))).all()
        if not found_rows:
            return 0
        all_clear = {row.id: bool(row.warning_all_clear) for row in found_rows}
        rows = [(row, row.warning_colour) for row in found_rows]
        ids = [row.id for row, _ in rows]
        reminders, redials = {}, {}
        for reminder in (await session.execute(
                select(N.c.id, N.c.escalated_from_id, N.c.status, N.c.delivered_at, N.c.created_at)
                .where(N.c.escalated_from_id.in_(ids), N.c.purpose == "reminder")
                .order_by(N.c.id))).all():
            reminders[reminder.escalated_from_id] = reminder  # the latest one wins
            redials.setdefault(reminder.escalated_from_id, []).append(reminder)
        answered = await self._answered(session, {row.warning_id for row, _ in rows})
        states = {row.id: _state(row, colour, reminders.get(row.id), group_key(row) in answered, all_clear[row.id])
                  for row, colour in rows}
        redialled = [row for row, colour in rows if _redials(row, colour, states[row.id], settings, calling)]
        found = await sequences(session, redialled, redials, settings) if redialled else {}
        calls = {row.id: decide(row, reminders.get(row.id), found[row.id], settings, colour, now)
                 for row, colour in rows if row.id in found}
        decided = [(row, colour, redial_step(states[row.id], calls[row.id], settings) if row.id in calls
                    else next_step(states[row.id], now, settings.warnings)) for row, colour in rows]
        if self.targets is None:
            self.targets = _Targets(session, settings, now)
        targets = self.targets
        targets.session = session
        decided, above = await _someone_above(decided, targets, settings)
        # Each decision is taken by a conditional UPDATE of its source row: a repeated or concurrent run
        # finds the condition false and creates nothing twice.
        reminding = await take_reminders(session, {row.id: row.reminders_sent for row, _, step in decided
                                                   if step.action == "remind"})
        escalating = await take_escalations(session, [row.id for row, _, step in decided
                                                      if step.action == "escalate"], now)
        await check_later(session, _later(decided, now))

        created: list[NewNotice] = []
        groups: dict[tuple, list] = {}
        for row, colour, step in decided:
            if row.id in reminding:
                created.append(await _reminder(row, calls.get(row.id), found.get(row.id), targets))
            elif row.id in escalating:
                number, reached = above[row.id]
                reason = ("无法送达" if row.status in ("failed", "dead") else
                          "多次电话未叫应" if row.id in calls else "逾期未叫应")
                for target in reached:
                    groups.setdefault((row.warning_id, number, reason, target), []).append(row)
        created += escalation_notices(groups, escalation_note)
        if created:
            if self.writer is None:
                self.writer = await signed_writer(session, settings.warnings.quiet_hours)
            await self.writer.write(session, created, now)
            for purpose in ("reminder", "escalation"):
                telemetry.followed_up(purpose, sum(1 for notice in created if notice.purpose == purpose))
        return len(created)


def escalation_notices(groups: dict[tuple, list], note: Callable[[list[str], str], str],
                       drill: bool = False) -> list[NewNotice]:
    """One escalation per group of source rows keyed (warning or drill id, step, reason, person): the first
    source's message with `note(names, reason)` ahead of it, reporting every source."""
    notices = []
    for (owner_id, number, reason, target), sources in groups.items():
        first = sources[0]
        payload = follow_up_payload(first.payload, "escalation", escalation_prefix(reason),
                                    note=note([source.recipient_name for source in sources], reason),
                                    sources=[source.id for source in sources])
        if drill:
            notices.append(NewNotice(None, target, payload, drill_escalation_key(owner_id, number, target, first.id),
                                     "escalation", number, first.id, owner_id))
        else:
            notices.append(NewNotice(owner_id, target, payload, escalation_key(owner_id, number, target, first.id),
                                     "escalation", number, first.id))
    return notices


async def _reminder(row, call, found, targets: _Targets) -> NewNotice:
    """The next reminder of `row`: the same message again, or a redial (`call`: the same number again, the
    landline or the deputy); a desk's goes to whoever is on duty now."""
    number = row.reminders_sent + 1
    if call is not None:
        recipient = await targets.at_desk(redial_recipient(row, call.number, found))
        note = deputy_note(row.recipient_name) if recipient.key != row.recipient_key else ""
        payload = follow_up_payload(row.payload, "reminder", redial_prefix(call.number, call.call), note=note,
                                    keep_role=True)
    else:
        recipient = await targets.at_desk(_recipient_of(row))
        payload = follow_up_payload(row.payload, "reminder", reminder_prefix(number), keep_role=True)
    return NewNotice(row.warning_id, recipient, payload, reminder_key(row.warning_id, row.id, number), "reminder",
                     row.escalation_step, row.id)


def _later(decided: list, now: datetime) -> dict[int, datetime]:
    """Rows waiting on a reminder's deadline, or with nobody left above them, are not read again
    before that deadline (or for a day): an unanswered city-wide warning is not rescanned every run."""
    later = {row.id: step.at for row, _, step in decided if step.action == "wait" and step.at is not None}
    later |= {row.id: now + EXHAUSTED_RECHECK for row, _, step in decided if step.action in ("exhausted", "answered")}
    return later


def _redials(row, colour: str | None, state: AckState, settings: Settings, calling: list[str]) -> bool:
    """Whether `row`'s next step is a redial decision: a call, delivered (not failed for good), of a colour
    with a redial policy, and not already answered for by its group."""
    return (row.channel in calling and settings.warnings.redial.policy(colour) is not None and not state.unreachable
            and not answered_by_group(state, settings.warnings))


def redial_step(state: AckState, call, settings: Settings) -> Step:
    """routing.redial's decision as a step: a redial is a reminder (to the number it names); an exhausted
    sequence escalates at once, whatever the ack deadline."""
    if call.action == "call":
        return Step("remind", call.at)
    if call.action == "wait":
        return Step("wait", call.at)
    if call.action == "none":
        return Step("none")
    target = escalation_target(state.recipient_kind, state.level)
    enabled = settings.warnings.escalation is not None and settings.warnings.escalation.enabled
    if target is None or not enabled:
        return Step("exhausted", call.at)
    return Step("escalate", call.at, target, state.escalation_step + 1)


async def _someone_above(decided: list, targets: _Targets, settings: Settings) -> tuple[list, dict[int, tuple]]:
    """The decisions, and for each escalation the step number and people it reaches; an escalation with nobody
    above it (every level up empty, the city duty room with no 带班领导 rostered) is `exhausted` instead, so its
    row is never marked escalated with nobody told."""
    kept, above = [], {}
    for row, colour, step in decided:
        if step.action == "escalate":
            number, found = await _escalation_targets(targets, row, step, settings)
            if found:
                above[row.id] = (number, found)
            else:
                step = Step("exhausted", step.at)
        kept.append((row, colour, step))
    return kept, above


async def _escalation_targets(targets: _Targets, row, step, settings: Settings) -> tuple[int, list[Recipient]]:
    """The step number and people of the first level up with someone on record (empty levels are skipped)."""
    target, number = step.target, step.escalation_step
    enabled = settings.warnings.escalation is not None and settings.warnings.escalation.enabled
    while target is not None:
        kind, who = target
        if kind in ("duty_desk", "duty_leader") and not enabled:
            break
        found = await targets.of(row, kind, who)
        if found:
            return number, found
        target = escalation_target(kind, who)
        number += 1
    return number, []
