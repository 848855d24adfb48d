"""Warning lifecycle: duplicates, threads (递进式), Update supersedes, Cancel withdraws, expiry closes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.delivery.outbox import Handoff, N, cancel_unsent
from fangxun.warnings.intake.expansion_store import stop_expansions
from fangxun.warnings.intake.normalised import NormalisedWarning, Reference
from fangxun.warnings.routing.jurisdiction import INSIDE, OUTSIDE
from fangxun.warnings.routing.recipients import Recipient
from fangxun.warnings.tables import Warning

W = Warning.__table__
SUPERSEDED_REASON = "预警已更新，以新预警为准"
CANCELLED_REASON = "预警已解除"
EXPIRED_REASON = "预警已过期"


@dataclass
class Transition:
    """What accepting one Update or Cancel did to the warnings it refers to."""

    superseded: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    cancelled_notifications: int = 0


async def find_existing(session: AsyncSession, warning: NormalisedWarning) -> Warning | None:
    """The stored message with the same identifier, sender and sent, if any."""
    return (await session.execute(select(Warning).where(
        Warning.identifier == warning.identifier, Warning.sender == warning.sender,
        Warning.sent == warning.sent))).scalar_one_or_none()


async def find_referenced(session: AsyncSession,
                          references: tuple[Reference, ...]) -> tuple[list[Warning], list[Reference]]:
    """The stored warnings `references` name, and the references we do not hold."""
    found, missing = [], []
    for reference in references:
        row = (await session.execute(select(Warning).where(
            Warning.identifier == reference.identifier, Warning.sender == reference.sender,
            Warning.sent == reference.sent))).scalar_one_or_none()
        (found.append(row) if row is not None else missing.append(reference))
    return found, missing


def thread_jurisdiction(own: str, referenced: list[Warning]) -> str:
    """A message continuing a thread of ours stays ours, whatever its own areas say (an Update moving off,
    an all-clear without areas); otherwise its own placement."""
    if own != INSIDE and any(row.jurisdiction == INSIDE for row in referenced):
        return INSIDE
    return own


def status_on_arrival(row: Warning, now: datetime) -> str:
    """outside: never in force; an all-clear: ended (cancelled); past its expiry: expired; else active."""
    if row.jurisdiction == OUTSIDE:
        return "outside"
    if row.all_clear:
        return "cancelled"
    if row.expires is not None and row.expires <= now:
        return "expired"
    return "active"


def thread_for(referenced: list[Warning]) -> int | None:
    """The thread a new message joins: the earliest thread among what it refers to (None: a new one)."""
    threads = [row.thread_id or row.id for row in referenced]
    return min(threads) if threads else None


async def apply(session: AsyncSession, new: Warning, referenced: list[Warning], now: datetime,
                handoff: Handoff | None = None) -> Transition:
    """Supersede (Update) or withdraw (Cancel) what `new` refers to, stopping their unsent notifications
    (those still queued in `handoff`, the dispatcher of this process, too) and the writing of those not yet
    written (their expansions).

    An all-clear (Cancel, AllClear, 解除) withdraws every warning still active in the referenced threads,
    so 解除 of the first signal also ends an upgrade that followed it. A message outside the jurisdiction
    changes nothing of ours.
    """
    change = Transition()
    if new.jurisdiction == OUTSIDE:
        return change
    if new.msg_type == "Update" and not new.all_clear:
        targets = [row.id for row in referenced if row.status == "active"]
        if targets:
            await session.execute(update(W).where(W.c.id.in_(targets), W.c.status == "active").values(
                status="superseded", superseded_by_id=new.id, closed_at=now))
            change.superseded = targets
            await stop_expansions(session, targets, now, SUPERSEDED_REASON)
            change.cancelled_notifications = await cancel_unsent(session, targets, now, SUPERSEDED_REASON, handoff)
    elif new.all_clear:
        threads = sorted({row.thread_id or row.id for row in referenced})
        ids = [row.id for row in referenced]
        targets = list((await session.execute(select(W.c.id).where(
            or_(W.c.thread_id.in_(threads), W.c.id.in_(ids)), W.c.status == "active", W.c.id != new.id)
        )).scalars()) if referenced else []
        if targets:
            await session.execute(update(W).where(W.c.id.in_(targets)).values(
                status="cancelled", superseded_by_id=new.id, closed_at=now))
            change.cancelled = targets
            await stop_expansions(session, targets, now, CANCELLED_REASON)
            change.cancelled_notifications = await cancel_unsent(session, targets, now, CANCELLED_REASON, handoff)
    return change


async def previous_recipients(session: AsyncSession, warning_ids: list[int], template: str) -> list[Recipient]:
    """Who the first notices of `warning_ids` went to (one per recipient and channel), to tell again."""
    if not warning_ids:
        return []
    rows = (await session.execute(
        select(N.c.recipient_kind, N.c.recipient_key, N.c.recipient_name, N.c.unit_code, N.c.level,
               N.c.channel, N.c.address, N.c.payload, N.c.last_error, N.c.status)
        .where(N.c.warning_id.in_(warning_ids), N.c.purpose == "notice").order_by(N.c.id))).all()
    found: dict[tuple, Recipient] = {}
    for row in rows:
        problem = row.last_error if row.status == "failed" and not row.address else None
        payload = row.payload or {}
        found.setdefault((row.recipient_kind, row.recipient_key, row.channel), Recipient(
            row.recipient_kind, row.recipient_key, row.recipient_name, row.unit_code, row.level, row.channel,
            row.address, template, payload.get("role"), problem, payload.get("duty", "")))
    return list(found.values())


async def close_expired(session: AsyncSession, now: datetime) -> list[int]:
    """Close active warnings whose `expires` has passed and cancel what is still unsent for them."""
    ids = list((await session.execute(select(W.c.id).where(
        W.c.status == "active", W.c.expires.is_not(None), W.c.expires <= now))).scalars())
    if ids:
        await session.execute(update(W).where(W.c.id.in_(ids), W.c.status == "active").values(
            status="expired", closed_at=now))
        await stop_expansions(session, ids, now, EXPIRED_REASON)
        await cancel_unsent(session, ids, now, EXPIRED_REASON)
    return ids


async def thread(session: AsyncSession, thread_id: int) -> list[Warning]:
    """Every message of a thread, oldest first (the API shows a thread as one object)."""
    return list((await session.execute(select(Warning).where(
        or_(Warning.thread_id == thread_id, and_(Warning.id == thread_id, Warning.thread_id.is_(None))))
        .order_by(Warning.sent, Warning.id))).scalars())

