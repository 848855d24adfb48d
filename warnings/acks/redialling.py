"""Redials of unanswered voice calls: what routing.redial needs read from the database, and the redial rows'
recipients and wording (the rows are written by escalation.escalate_due through delivery.notices)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.plans.contact_queries import plan_persons
from fangxun.plans.contact_rules import LANDLINE_ENTRY
from fangxun.plans.models import Contact
from fangxun.settings import Settings
from fangxun.warnings.routing.recipients import Recipient, duty_line, person_address
from fangxun.warnings.routing.redial import DEPUTY, LANDLINE, Attempt, Number, Redial, next_call
from fangxun.warnings.tables import CallAttempt, Notification

# Channel kinds that place calls (their rows have call_attempts).
VOICE_KINDS = ("voice", "aliyun_voice")
_CHUNK = 1000


def voice_channels(settings: Settings) -> list[str]:
    """Names of the configured channels that place calls."""
    return [name for name, channel in settings.warnings.channels.items() if channel.kind in VOICE_KINDS]


def redial_prefix(number: Number, call: int) -> str:
    """The title prefix of call `call` of a sequence (2: the first redial) to `number`."""
    if number.kind == LANDLINE:
        return "【手机未接通·改拨座机·请按1确认】"
    if number.kind == DEPUTY:
        return "【责任人未接听·请副责任人按1确认】"
    return f"【第{call - 1}次重拨·请按1确认】"


def deputy_note(name: str) -> str:
    """The lead note of a call to the deputy (AB角) of `name`."""
    return f"{name} 未接听叫应电话，请您作为副责任人（AB角）代为叫应，按1确认收到。"


class Sequence(NamedTuple):
    """A voice row's calls so far and the ways left to reach its person."""

    attempts: list[Attempt]
    numbers: list[Number]
    deputies: dict[str, Recipient]  # address -> the deputy it reaches


async def attempts_of(session: AsyncSession, groups: dict[int, list[int]]) -> dict[int, list[Attempt]]:
    """The calls of each row of `groups` (row id -> its own id and its redials' ids), oldest first."""
    owner = {member: row for row, members in groups.items() for member in members}
    found: dict[int, list[Attempt]] = {row: [] for row in groups}
    members = sorted(owner)
    for start in range(0, len(members), _CHUNK):
        for call in (await session.execute(
                select(CallAttempt.notification_id, CallAttempt.to_number, CallAttempt.requested_at,
                       CallAttempt.status, CallAttempt.keys, CallAttempt.result_at)
                .where(CallAttempt.notification_id.in_(members[start:start + _CHUNK]))
                .order_by(CallAttempt.requested_at, CallAttempt.id))).all():
            found[owner[call.notification_id]].append(Attempt(call.to_number, call.requested_at, call.status,
                                                              call.keys or "", call.result_at))
    return found


async def sequences(session: AsyncSession, rows: list[Notification], redials: dict[int, list[Notification]],
                    settings: Settings) -> dict[int, Sequence]:
    """Each row's calls and numbers in order: its own address (the mobile), the person's landline, then the
    unit's deputies (副责任人) when the person is its 责任人."""
    attempts = await attempts_of(session, {row.id: [row.id] + [r.id for r in redials.get(row.id, [])]
                                           for row in rows})
    contacts = {}
    ids = sorted({_contact_id(row) for row in rows} - {None})
    for start in range(0, len(ids), _CHUNK):
        contacts.update({contact.id: contact for contact in (await session.execute(
            select(Contact.id, Contact.role, Contact.channels).where(Contact.id.in_(ids[start:start + _CHUNK])))).all()})
    units = sorted({row.unit_code for row in rows if row.unit_code and _contact_id(row) in contacts})
    persons = await plan_persons(session, units) if units else []
    found = {}
    for row in rows:
        numbers, deputies = [Number("mobile", row.address)], {}
        contact = contacts.get(_contact_id(row))
        if contact is not None:
            landline = str((contact.channels or {}).get(LANDLINE_ENTRY) or "").strip()
            if landline and landline != row.address:
                numbers.append(Number(LANDLINE, landline))
            if contact.role == "responsible":
                kind = settings.warnings.channels[row.channel].kind
                for person in persons:
                    if person.unit_code != row.unit_code or person.role != "deputy" or person.id == contact.id:
                        continue
                    address = person_address(person.channels, person.phone, row.channel, kind)
                    if address and address not in deputies and address != row.address:
                        numbers.append(Number(DEPUTY, address))
                        deputies[address] = Recipient("person", f"{person.unit_code}:{person.id}", person.name,
                                                      person.unit_code, row.level, row.channel, address, "", None,
                                                      None, duty_line(person.unit_name, person.role,
                                                                      person.plan_title))
        found[row.id] = Sequence(attempts[row.id], numbers, deputies)
    return found


def decide(row: Notification, latest: Notification | None, sequence: Sequence, settings: Settings, colour: str | None,
           now: datetime) -> Redial:
    """routing.redial.next_call for a voice row whose latest redial is `latest` (None: none yet); a call still
    to be placed (queued, held by quiet hours, being retried) is waited for."""
    policy = settings.warnings.redial.policy(colour)
    scheduled = latest if latest is not None else row
    if scheduled.status in ("pending", "sending"):
        return Redial("wait", now + timedelta(minutes=policy.interval_minutes))
    return next_call(sequence.attempts, 1 + row.reminders_sent, scheduled.created_at, sequence.numbers, policy, now)


def redial_recipient(row: Notification, number: Number, sequence: Sequence) -> Recipient:
    """Whom call `number` of `row`'s sequence reaches: its own person (at another number), or a deputy."""
    if number.kind == DEPUTY:
        return sequence.deputies[number.address]
    return Recipient(row.recipient_kind, row.recipient_key, row.recipient_name, row.unit_code, row.level, row.channel,
                     number.address, "", None, None)


def _contact_id(row: Notification) -> int | None:
    """The contact a person row is keyed on ("{unit}:{contact id}")."""
    if row.recipient_kind != "person":
        return None
    _, _, contact = row.recipient_key.partition(":")
    return int(contact) if contact.isdigit() else None
