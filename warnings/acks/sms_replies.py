"""SMS replies recorded: each inbound message once, tied to the notifications its number was sent of warnings in
force or recently ended; a 收到 (reply_rules.is_ack_reply) acknowledges the open ones of warnings in force, through
delivery.notices like a link does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.plans.models import Contact
from fangxun.warnings.acks.inbound_sms import InboundSms
from fangxun.warnings.acks.reply_rules import answerable, is_ack_reply, phone_spellings
from fangxun.warnings.acks.tables import SmsReply, SmsReplyNotice
from fangxun.warnings.delivery.notices import record_ack
from fangxun.warnings.tables import Drill, Notification, Warning

VIA = "sms"
# A reply is tied to the warnings in force and to those ended this recently (the duty board's window).
REPLY_WINDOW = timedelta(hours=24)
_SEPARATORS = " -()."


@dataclass(frozen=True)
class ReplyOutcome:
    """What became of one inbound message."""

    reply_id: int
    duplicate: bool
    is_ack: bool
    acknowledged: int  # notifications (notices and escalations) it acknowledged
    known: bool
    linked: int  # notifications it is tied to


def compact(column):
    """SQL of a column holding a phone number with the separators people type left out."""
    for separator in _SEPARATORS:
        column = func.replace(column, separator, "")
    return column


def _of_number(column, phone: str):
    return compact(column).in_(phone_spellings(phone))


async def _sent_to(session: AsyncSession, phone: str, now: datetime) -> list[tuple[Notification, str]]:
    """Notices and escalations sent to `phone` of warnings in force or ended within REPLY_WINDOW, newest first,
    each with its warning's status (reminders are answered through the notice they repeat)."""
    rows = await session.execute(
        select(Notification, Warning.status).join(Warning, Warning.id == Notification.warning_id)
        .where(_of_number(Notification.address, phone), Notification.purpose != "reminder",
               or_(Warning.status == "active", Warning.closed_at >= now - REPLY_WINDOW))
        .order_by(Notification.id.desc()))
    found = [(row, status) for row, status in rows]
    # A drill's messages are answered by SMS too, while it runs (called off: no more).
    drills = await session.execute(
        select(Notification, Drill.finished_at).join(Drill, Drill.id == Notification.drill_id)
        .where(_of_number(Notification.address, phone), Notification.purpose != "reminder",
               Drill.cancelled_at.is_(None), or_(Drill.finished_at.is_(None), Drill.finished_at >= now - REPLY_WINDOW)))
    found += [(row, "active" if finished is None else "closed") for row, finished in drills]
    return sorted(found, key=lambda item: item[0].id, reverse=True)


async def _contact_name(session: AsyncSession, phone: str) -> str:
    """The name of a registry contact with this number, or ""."""
    name = (await session.execute(select(Contact.name).where(_of_number(Contact.phone, phone))
                                  .order_by(Contact.id).limit(1))).scalar_one_or_none()
    return name or ""


async def record_reply(session: AsyncSession, channel: str, inbound: InboundSms, now: datetime) -> ReplyOutcome:
    """Keep `inbound` (IntegrityError when the same message is already kept) and, for a 收到, acknowledge at `now`
    the sender's open notifications of the warnings in force; in the caller's transaction."""
    sent = await _sent_to(session, inbound.phone, now)
    is_ack = is_ack_reply(inbound.text)
    name = sent[0][0].recipient_name if sent else await _contact_name(session, inbound.phone)
    reply = SmsReply(channel=channel, sender=inbound.sender[:40], phone=inbound.phone, text=inbound.text,
                     received_at=inbound.received_at, recorded_at=now, fingerprint=inbound.fingerprint,
                     is_ack=is_ack, acked_count=0, sender_name=name[:100], known=bool(name))
    session.add(reply)
    await session.flush()  # a message kept already stops here, before anything is acknowledged
    if sent:
        await session.execute(insert(SmsReplyNotice), [{"reply_id": reply.id, "notification_id": row.id}
                                                        for row, _ in sent])
    if is_ack:
        # A 收到 answers what the latest message to the number was: a drill's messages or real warnings', never both
        # (a reply to a drill must not count for a warning, nor the other way round).
        drill = bool(sent) and sent[0][0].drill_id is not None
        open_rows = [row for row, status in sent
                     if status == "active" and (row.drill_id is not None) == drill
                     and answerable(row.status, row.attempts, row.acked_at is not None)]
        for row in open_rows:
            await record_ack(session, row, now, VIA)
        reply.acked_count = len(open_rows)
    return ReplyOutcome(reply.id, False, is_ack, reply.acked_count, reply.known, len(sent))


async def kept_already(session: AsyncSession, inbound: InboundSms) -> ReplyOutcome | None:
    """The outcome of the same message kept before, or None."""
    reply = (await session.execute(select(SmsReply).where(SmsReply.fingerprint == inbound.fingerprint))
             ).scalar_one_or_none()
    if reply is None:
        return None
    linked = (await session.execute(select(func.count()).select_from(SmsReplyNotice)
                                    .where(SmsReplyNotice.reply_id == reply.id))).scalar_one()
    return ReplyOutcome(reply.id, True, reply.is_ack, reply.acked_count, reply.known, linked)


async def receive_reply(sessions: async_sessionmaker, channel: str, inbound: InboundSms,
                        now: datetime) -> ReplyOutcome:
    """Record `inbound` in a transaction of its own; the same message again (one after the other or at the same
    moment) is recorded once, and answered with what the first one did."""
    async with sessions() as session:
        async with session.begin():
            earlier = await kept_already(session, inbound)
            if earlier is not None:
                return earlier
        try:
            async with session.begin():
                return await record_reply(session, channel, inbound, now)
        except IntegrityError:
            pass  # a concurrent post of the same message was kept first
    async with sessions() as session, session.begin():
        earlier = await kept_already(session, inbound)
    if earlier is None:
        raise RuntimeError("an SMS reply was refused as a duplicate but is not kept")
    return earlier
