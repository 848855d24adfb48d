"""The call ledger: every voice call of a notification, written before its request goes out, then what the
gateway said to the request and, later, what became of the call (the result callback)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.warnings.delivery.channels.voice_protocol import REQUESTED, CallOutcome, CallReport, call_id
from fangxun.warnings.tables import CallAttempt, Notification

log = logging.getLogger(__name__)

C = CallAttempt.__table__
N = Notification.__table__
MAX_ERROR_CHARS = 2000


class OpenCall(NamedTuple):
    """The call a send is about: `call_id` None when no call is to be made (`reason` says why); `accepted`
    when the gateway already took it (a resend after a crash: nothing to request again)."""

    call_id: str | None
    number: int = 0
    accepted: bool = False
    reason: str = ""


class RecordedResult(NamedTuple):
    """A result callback as recorded: the call's notification, whether this callback was the first
    (a repeated one records nothing), the status stored."""

    notification_id: int
    first: bool
    status: str


async def open_call(session: AsyncSession, idempotency_key: str, channel: str, to: str, now: datetime) -> OpenCall:
    """The call to request for the notification of `idempotency_key`: its latest call again while the gateway
    may hold it (requested, accepted or reported: the same call id, so the gateway places it once), a new
    one when there is none yet or the gateway refused the last; no call once the notification is
    acknowledged."""
    notification = (await session.execute(select(N.c.id, N.c.acked_at)
                                          .where(N.c.idempotency_key == idempotency_key))).first()
    if notification is None:
        return OpenCall(None, reason="no outbox row for this message")
    if notification.acked_at is not None:
        return OpenCall(None, reason="already acknowledged: no call placed")
    latest = (await session.execute(
        select(C.c.call_id, C.c.call_number, C.c.accepted_at, C.c.result_at, C.c.status)
        .where(C.c.notification_id == notification.id).order_by(C.c.call_number.desc()).limit(1))).first()
    if latest is not None and not _refused(latest):
        return OpenCall(latest.call_id, latest.call_number,
                        accepted=latest.accepted_at is not None or latest.result_at is not None)
    number = 1 if latest is None else latest.call_number + 1
    new_id = call_id(idempotency_key, number)
    await session.execute(insert(C).values(
        notification_id=notification.id, call_id=new_id, call_number=number, channel=channel, to_number=to[:500],
        requested_at=now, status=REQUESTED, keys=""))
    return OpenCall(new_id, number)


def _refused(row) -> bool:
    """The gateway refused the request (4xx) and never reported on the call: that call never happened."""
    return row.status == "failed" and row.accepted_at is None and row.result_at is None


async def mark_accepted(session: AsyncSession, call: str, now: datetime) -> None:
    """The gateway answered the request 2xx: it took the call."""
    await session.execute(update(C).where(C.c.call_id == call, C.c.accepted_at.is_(None))
                          .values(accepted_at=now, request_error=None))


async def mark_refused(session: AsyncSession, call: str, detail: str) -> None:
    """The gateway refused the request for good (4xx): the call failed unless it was reported meanwhile."""
    await session.execute(update(C).where(C.c.call_id == call, C.c.status == REQUESTED, C.c.accepted_at.is_(None))
                          .values(status="failed", request_error=detail[:MAX_ERROR_CHARS]))


async def note_request_error(session: AsyncSession, call: str, detail: str) -> None:
    """A request that may be tried again (429, 5xx, timeout): the call stays requested, with the error."""
    await session.execute(update(C).where(C.c.call_id == call, C.c.accepted_at.is_(None))
                          .values(request_error=detail[:MAX_ERROR_CHARS]))


async def record_result(session: AsyncSession, channel: str, report: CallReport, outcome: CallOutcome, raw: str,
                        now: datetime) -> RecordedResult | None:
    """Record the result `report` of a call of `channel` (None: no such call). Only the first result of a call
    is kept; a late result of an older call fills in that call's row and nothing else."""
    row = (await session.execute(select(C.c.id, C.c.notification_id, C.c.status)
                                 .where(C.c.call_id == report.call_id, C.c.channel == channel))).first()
    if row is None:
        return None
    # The condition makes the first of two concurrent deliveries of one callback the only one recorded.
    result = await session.execute(
        update(C).where(C.c.id == row.id, C.c.result_at.is_(None))
        .values(status=outcome.status, answered=outcome.answered, duration_s=report.duration_s, keys=report.keys,
                ended_at=report.ended_at or now, result_at=now, callback=raw))
    first = (result.rowcount or 0) == 1
    if not first:
        status = (await session.execute(select(C.c.status).where(C.c.id == row.id))).scalar_one()
        return RecordedResult(row.notification_id, False, status)
    return RecordedResult(row.notification_id, True, outcome.status)


class CallLedger:
    """The ledger as a channel uses it: each step in a transaction of its own, at the clock's time."""

    def __init__(self, sessions: async_sessionmaker, now: Callable[[], datetime]):
        self.sessions = sessions
        self.now = now

    async def open(self, idempotency_key: str, channel: str, to: str) -> OpenCall:
        """open_call, committed before the request goes out (tried twice: another worker may have opened
        the same call a moment before)."""
        for attempt in (1, 2):
            try:
                async with self.sessions() as session, session.begin():
                    return await open_call(session, idempotency_key, channel, to, self.now())
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def accepted(self, call: str) -> None:
        """mark_accepted, in its own transaction."""
        await self._run(mark_accepted, call, self.now())

    async def refused(self, call: str, detail: str) -> None:
        """mark_refused, in its own transaction."""
        await self._run(mark_refused, call, detail)

    async def request_error(self, call: str, detail: str) -> None:
        """note_request_error, in its own transaction."""
        await self._run(note_request_error, call, detail)

    async def _run(self, step, *args) -> None:
        async with self.sessions() as session, session.begin():
            await step(session, *args)
