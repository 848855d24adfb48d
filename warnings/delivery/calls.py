"""The call ledger: every voice call of a notification, written before its request goes out, then what the
gateway said to the request and, later, what became of the call (the result callback)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.voice_protocol import REQUESTED, CallOutcome, CallReport, call_id
from fangxun.warnings.tables import CallAttempt, Notification

log = logging.getLogger(__name__)

C = CallAttempt.__table__
N = Notification.__table__
MAX_ERROR_CHARS = 2000
_IDS_PER_STATEMENT = 1000


class OpenCall(NamedTuple):
    """The call a send is about: `call_id` None when no call is to be made (`reason` says why: fine when the
    notification is `acknowledged` already); `accepted` when the gateway already took it (a resend after a
    crash: nothing to request again)."""

    call_id: str | None
    number: int = 0
    accepted: bool = False
    reason: str = ""
    acknowledged: bool = False


class CallNotification(NamedTuple):
    """What acknowledging needs of a call's notification, as it stood when the result was recorded."""

    id: int
    purpose: str
    escalated_from_id: int | None
    acked_at: datetime | None


class RecordedResult(NamedTuple):
    """A result callback as recorded: the call's notification, whether this callback was the first (a repeated
    one records nothing), the status stored."""

    notification: CallNotification
    first: bool
    status: str

    @property
    def notification_id(self) -> int:
        return self.notification.id


CallIds = Callable[[str, int], str]


async def open_call(session: AsyncSession, idempotency_key: str, channel: str, to: str, now: datetime,
                    make_id: CallIds = call_id) -> OpenCall:
    """The call to request for the notification of `idempotency_key`: its latest call again while the gateway
    may hold it (requested, accepted or reported: the same call id, so the gateway places it once), a new
    one when there is none yet or the gateway refused the last; no call once the notification is
    acknowledged. `make_id` names call N of the notification (a provider may need shorter ids)."""
    notification = (await session.execute(select(N.c.id, N.c.acked_at)
                                          .where(N.c.idempotency_key == idempotency_key))).first()
    if notification is None:
        return OpenCall(None, reason="no outbox row for this message")
    if notification.acked_at is not None:
        return OpenCall(None, reason="already acknowledged: no call placed", acknowledged=True)
    latest = (await session.execute(
        select(C.c.call_id, C.c.call_number, C.c.accepted_at, C.c.result_at, C.c.status)
        .where(C.c.notification_id == notification.id).order_by(C.c.call_number.desc()).limit(1))).first()
    if latest is not None and not _refused(latest):
        return OpenCall(latest.call_id, latest.call_number,
                        accepted=latest.accepted_at is not None or latest.result_at is not None)
    number = 1 if latest is None else latest.call_number + 1
    new_id = make_id(idempotency_key, number)
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


class Result(NamedTuple):
    """A result callback to record: the channel it came in on, the report, what it comes to, its body."""

    channel: str
    report: CallReport
    outcome: CallOutcome
    raw: str


async def record_results(session: AsyncSession, results: list[Result], now: datetime) -> list[RecordedResult | None]:
    """Record each result on its call of its channel (None: no such call), a few statements for the lot. Only a
    call's first result is kept (also within `results`); a late result of an older call fills in that call's row
    and nothing else."""
    ids = sorted({result.report.call_id for result in results})
    rows = {}
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        # FOR UPDATE (PostgreSQL): another process recording the same call waits, then finds it recorded.
        # The notification comes along: acknowledging on key 1 needs no second look.
        found = await session.execute(select(C.c.id, C.c.call_id, C.c.channel, C.c.status, C.c.result_at,
                                             N.c.id.label("notification_id"), N.c.purpose, N.c.escalated_from_id,
                                             N.c.acked_at)
                                      .join(N, N.c.id == C.c.notification_id)
                                      .where(C.c.call_id.in_(ids[start:start + _IDS_PER_STATEMENT]))
                                      .with_for_update(of=C))
        rows.update({row.call_id: row for row in found})
    recorded: list[RecordedResult | None] = []
    status: dict[str, str] = {}  # call id -> its first result's status, of those already recorded or now
    changes = []
    for channel, report, outcome, raw in results:
        row = rows.get(report.call_id)
        if row is None or row.channel != channel:
            recorded.append(None)
            continue
        if row.result_at is not None or report.call_id in status:
            recorded.append(RecordedResult(_notification(row), False, status.get(report.call_id, row.status)))
            continue
        status[report.call_id] = outcome.status
        changes.append({"b_id": row.id, "b_status": outcome.status, "b_answered": outcome.answered,
                        "b_duration": report.duration_s, "b_keys": report.keys, "b_ended": report.ended_at or now,
                        "b_raw": raw})
        recorded.append(RecordedResult(_notification(row), True, outcome.status))
    if changes:
        await session.execute(
            update(C).where(C.c.id == bindparam("b_id"), C.c.result_at.is_(None))
            .values(status=bindparam("b_status"), answered=bindparam("b_answered"),
                    duration_s=bindparam("b_duration"), keys=bindparam("b_keys"), ended_at=bindparam("b_ended"),
                    result_at=now, callback=bindparam("b_raw")),
            changes)
    return recorded


def _notification(row) -> CallNotification:
    return CallNotification(row.notification_id, row.purpose, row.escalated_from_id, row.acked_at)


class CallLedger:
    """The ledger as a channel uses it: each step in a transaction of its own, at the clock's time."""

    def __init__(self, sessions: async_sessionmaker, now: Callable[[], datetime], make_id: CallIds = call_id):
        self.sessions = sessions
        self.now = now
        self.make_id = make_id

    async def open(self, idempotency_key: str, channel: str, to: str) -> OpenCall:
        """open_call, committed before the request goes out."""
        try:
            return await self._open(idempotency_key, channel, to)
        except IntegrityError:  # another worker opened the same call a moment before: this finds it
            return await self._open(idempotency_key, channel, to)

    async def _open(self, idempotency_key: str, channel: str, to: str) -> OpenCall:
        async with self.sessions() as session, session.begin():
            return await open_call(session, idempotency_key, channel, to, self.now(), self.make_id)

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


async def begin_call(ledger: CallLedger | None, message: OutgoingMessage, channel: str,
                     taker: str) -> OpenCall | ChannelResult:
    """The message's call, opened in the ledger (or found again) before its request goes out; or the result to
    give when there is nothing to request (no number, no ledger, a call already answered or taken by `taker`)."""
    to = message.address.strip()
    if not to:
        return ChannelResult(ok=False, retry=False, detail="no phone number")
    if ledger is None:
        return ChannelResult(ok=False, retry=False, detail="voice channel not attached to a dispatcher")
    try:
        call = await ledger.open(message.idempotency_key, channel, to)
    except SQLAlchemyError as exc:
        return ChannelResult(ok=False, retry=True, detail=f"call ledger unavailable ({type(exc).__name__})")
    if call.call_id is None:
        return ChannelResult(ok=call.acknowledged, retry=False, detail=call.reason)
    if call.accepted:
        return ChannelResult(ok=True, retry=False, detail=f"call {call.call_id} already taken by {taker}")
    return call


async def settle_call(ledger: CallLedger, channel: str, call: str, result: ChannelResult) -> ChannelResult:
    """Note in the ledger what the provider said to the request; the result, naming the call."""
    if result.ok:
        step = ledger.accepted(call)
    else:
        step = (ledger.request_error if result.retry else ledger.refused)(call, result.detail)
    try:
        await step
    except SQLAlchemyError:
        # The request's fate is also the outbox row's; the call row still answers its callback.
        log.warning("voice channel %s: could not note the request of call %s", channel, call, exc_info=True)
    return replace(result, detail=f"{result.detail}, call {call}")
