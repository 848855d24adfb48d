"""Plan review reminders: each plan's 责任人 is told through the outbox 30 and 7 days before its review is due,
then weekly while overdue (registry.reminders); once per plan, due date, step and channel (the idempotency
key), so a rerun or a second process sends nothing twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Text, cast, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.plans.contact_rules import PERSON_ROLES, channels_from_text
from fangxun.plans.models import Contact, Plan
from fangxun.plans.review_reminders import reminder_step, step_label
from fangxun.plans.unit_search import place_labels
from fangxun.settings import Settings
from fangxun.warnings.delivery.notices import NewNotice, signed_writer
from fangxun.warnings.routing.recipients import Recipient, person_address
from fangxun.warnings.tables import Notification

NO_CONTACT = "无责任人联系方式"
NO_ADDRESS = "责任人在该渠道无地址"
TITLE = "【预案复核提醒】"
REMINDER_KEY_PREFIX = "plan-"
_CHUNK = 500


class PlanReminder(NamedTuple):
    """One reminder due (or, with `problem`, one that cannot be sent) for one plan on one channel."""

    plan_id: int
    plan_title: str
    unit_code: str
    place: str
    due: date
    step: str
    contact_name: str
    channel: str
    address: str
    key: str
    text: str
    problem: str | None = None
    contact_id: int | None = None

    def as_json(self) -> dict:
        """The reminder as `plans remind --json` lists it."""
        return {**self._asdict(), "due": self.due.isoformat()}


def reminder_key(plan_id: int, due: date, step: str, channel: str) -> str:
    """The idempotency key of a plan's review reminder at `step` for the due date `due` on `channel`."""
    return f"{REMINDER_KEY_PREFIX}{plan_id}-{due.isoformat()}-{step}-{channel}"


def reminder_text(person: str, plan_title: str, place: str, due: date, step: str) -> str:
    """The message: whom, which plan of which unit, due when."""
    title = plan_title.strip().strip("《》")
    return (f"{person}：您负责的《{title}》（{place}）下次复核日期为 {due.year}年{due.month}月{due.day}日，"
            f"{step_label(step)}。请按期组织复核，并在防汛系统中登记复核结果。")


async def due_reminders(session: AsyncSession, settings: Settings, today: date) -> list[PlanReminder]:
    """The reminders due on `today` not yet written, and the plans due a reminder nobody can receive."""
    config = settings.registry.reminders
    if not config.enabled:
        return []
    horizon = today + timedelta(days=max(config.before_days, default=0))
    plans = (await session.execute(
        select(Plan.id, Plan.title, Plan.unit_code, Plan.next_review_due)
        .where(Plan.lifecycle == "active", Plan.next_review_due.is_not(None), Plan.next_review_due <= horizon)
        .order_by(Plan.id))).all()
    steps = {plan.id: step for plan in plans
             if (step := reminder_step(plan.next_review_due, today, config.before_days, config.overdue_every_days))}
    plans = [plan for plan in plans if plan.id in steps]
    if not plans:
        return []
    owners = await owners_of(session, plans)
    places = await place_labels(session, {plan.unit_code for plan in plans})
    channels = settings.warnings.default_route.person_channels
    found: list[PlanReminder] = []
    for plan in plans:
        step, place = steps[plan.id], places.get(plan.unit_code, plan.unit_code)
        owner = owners.get(plan.id)
        common = (plan.id, plan.title, plan.unit_code, place, plan.next_review_due, step)
        if owner is None:
            found.append(PlanReminder(*common, "", "", "", reminder_key(plan.id, plan.next_review_due, step, ""),
                                      "", NO_CONTACT))
            continue
        contact_id, name, phone, channels_text = owner
        text = reminder_text(name, plan.title, place, plan.next_review_due, step)
        for channel in channels:
            address = person_address(channels_from_text(channels_text), phone, channel,
                                     settings.warnings.channels[channel].kind)
            found.append(PlanReminder(*common, name, channel, address,
                                      reminder_key(plan.id, plan.next_review_due, step, channel), text,
                                      None if address else NO_ADDRESS, contact_id))
    sent = await _written(session, [r.key for r in found if r.problem is None])
    return [r for r in found if r.key not in sent]


async def owners_of(session: AsyncSession, plans) -> dict[int, tuple]:
    """Each plan's owner: its own 责任人 (else 副责任人), else its unit's 责任人 of no plan; (id, name, phone,
    channels text)."""
    codes = sorted({plan.unit_code for plan in plans})
    rows = []
    for start in range(0, len(codes), _CHUNK):
        rows += (await session.execute(
            select(Contact.id, Contact.unit_code, Contact.plan_id, Contact.role, Contact.name, Contact.phone,
                   cast(Contact.channels, Text).label("channels"))
            .where(Contact.unit_code.in_(codes[start:start + _CHUNK]), Contact.role.in_(PERSON_ROLES))
            .order_by(Contact.id))).all()
    best: dict[tuple[str, int | None], tuple] = {}
    for row in rows:
        rank = PERSON_ROLES.index(row.role)
        known = best.get((row.unit_code, row.plan_id))
        if known is None or rank < known[0]:
            best[(row.unit_code, row.plan_id)] = (rank, (row.id, row.name, row.phone, row.channels))
    owners = {}
    for plan in plans:
        own = best.get((plan.unit_code, plan.id)) or best.get((plan.unit_code, None))
        if own is not None and (own[0] == 0 or (plan.unit_code, plan.id) in best):
            owners[plan.id] = own[1]
    return owners


async def _written(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of `keys` are already in the outbox."""
    sent: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        sent.update((await session.execute(select(Notification.idempotency_key)
                                           .where(Notification.idempotency_key.in_(keys[start:start + _CHUNK]))))
                    .scalars())
    return sent


async def write_reminders(session: AsyncSession, settings: Settings, reminders: list[PlanReminder],
                          now: datetime) -> int:
    """Put the sendable `reminders` in the outbox, in the session's transaction; how many."""
    notices = []
    for r in reminders:
        if r.problem:
            continue
        recipient = Recipient("person", f"{r.unit_code}:{r.contact_id}", r.contact_name, r.unit_code, None,
                              r.channel, r.address, "", role="responsible")
        payload = {"purpose": "plan_review", "plan_id": r.plan_id, "due": r.due.isoformat(), "step": r.step,
                   "title": TITLE + r.plan_title, "text": r.text}
        notices.append(NewNotice(None, recipient, payload, r.key))
    writer = await signed_writer(session, settings.warnings.quiet_hours)
    await writer.write(session, notices, now)
    return len(notices)


async def send_plan_reminders(sessions: async_sessionmaker, settings: Settings, now: datetime,
                              today: date) -> list[PlanReminder]:
    """One run: write the reminders due on `today`; the reminders written, and those that cannot be sent.
    A second process writing the same keys at the same moment makes this run's insert fail: it looks again."""
    for attempt in range(2):
        try:
            async with sessions() as session, session.begin():
                reminders = await due_reminders(session, settings, today)
                await write_reminders(session, settings, reminders, now)
                return reminders
        except IntegrityError:
            if attempt:
                raise
    return []
