"""The outbox store: claiming due notifications under a lease, marking sends begun, recording outcomes in
batches, holding, cancelling, and giving back the rows of a holder that stopped.

This is the sending state, the dispatcher's (and the lifecycle's, which cancels); rows are made and their
叫应 state written in notices.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.bulk import FAST_FROM, bulk_insert_values
from fangxun.warnings.drills.rules import exercise_payload, marked
from fangxun.warnings.tables import Notification, NotificationAttempt
from fangxun.warnings.vocabulary import PRIORITIES

N = Notification.__table__
A = NotificationAttempt.__table__
# Slots in stored message text: the dispatcher puts the ack link in at send time (so no token is
# stored in clear), and a warning's shared text takes each recipient's name and the line saying what
# they answer for (the payload's `duty`; its line is left out when they have none).
ACK_SLOT = "{ack_url}"
RECIPIENT_SLOT = "\x00recipient\x00"
DUTY_SLOT = "\x00duty\x00"
ATTEMPT_COLUMNS = ("notification_id", "at", "ok", "retry", "status", "detail", "worker")
# The detail of an attempt whose holder stopped between marking it begun and recording its outcome: the
# message may have gone out, and goes again (the recipient may have it twice).
INTERRUPTED = "发送中断：发送进程在记录结果前停止，结果未知（可能已送达，将重发）"


def compose(payload: dict, messages: dict, recipient_name: str, duty: str | None = None) -> tuple[str, str]:
    """(title, text) of a notification: its warning's shared message for its template (or a title and
    text of its own), with the recipient's name and duty line (`duty`, else the payload's), a title prefix
    and a lead note (reminders, escalations). The ack link slot is left for the dispatcher."""
    if payload.get("message") in messages:
        title, text = messages[payload["message"]]
    else:
        title, text = payload.get("title", ""), payload.get("text", "")
    title = payload.get("title_prefix", "") + title.replace(RECIPIENT_SLOT, recipient_name)
    line = payload.get("duty", "") if duty is None else duty
    text = _fill_line(text.replace(RECIPIENT_SLOT, recipient_name), DUTY_SLOT, line)
    if payload.get("note"):
        text = f"{payload['note']}\n\n{text}"
    if exercise_payload(payload):
        return marked(title, text)
    return title, text


def _fill_line(text: str, slot: str, value: str) -> str:
    """`text` with `slot` replaced by `value`; an empty value takes a line holding only the slot with it."""
    if slot not in text:
        return text
    if not value:
        lines = [line for line in text.split("\n") if line != slot]
        text = "\n".join(lines)
    return text.replace(slot, value)


class Claimed(NamedTuple):
    """A notification this worker now holds (status `sending`) until its lease runs out.

    (Named tuples, not frozen dataclasses: a city-wide fan-out makes ten thousand of these and of
    Outcome, and a tuple is built five times faster.)
    """

    id: int
    warning_id: int
    channel: str
    address: str
    recipient_name: str
    payload: dict
    idempotency_key: str
    attempts: int
    purpose: str
    priority: int = PRIORITIES[None]
    # The ack token, when the intake that wrote the row hands it over (it has just derived it to
    # store its hash); otherwise the dispatcher derives it again from the idempotency key.
    ack_token: str | None = None
    # The recipient's duty line when handed over beside a payload shared with other recipients; None: the
    # payload's own (a row read back from the database).
    duty: str | None = None

    @classmethod
    def of_new_row(cls, row: dict, ack_token: str | None = None, payload: dict | None = None,
                   duty: str | None = None) -> Claimed:
        """A row made by notices.NoticeWriter with a holder, as claimed by that holder (with the `payload` the
        notices share and the `duty` line beside it, when given)."""
        return cls(row["id"], row["warning_id"], row["channel"], row["address"], row["recipient_name"],
                   row["payload"] if payload is None else payload, row["idempotency_key"], row["attempts"],
                   row["purpose"], row["priority"], ack_token, duty)


class Handoff(Protocol):
    """A dispatcher in this process that takes new rows straight from the intake (no claim query):
    they are written already leased to it, and handed over once the transaction has committed."""

    worker_id: str
    lease: timedelta

    def take(self, rows: list[Claimed]) -> None:
        """Queue committed rows leased to this worker for sending."""

    def withdraw(self, warning_ids: set[int]) -> list[int]:
        """Take the queued rows of `warning_ids` back (not yet started); their ids."""

    def know(self, warning_id: int, colour: str | None, all_clear: bool, messages: dict) -> None:
        """What sending the rows of a warning about to be handed over needs of it (no read before they go)."""


class Outcome(NamedTuple):
    """What became of one claimed notification: the row's new state and the attempt to record."""

    id: int
    status: str
    at: datetime
    ok: bool
    retry: bool
    http_status: int | None
    detail: str
    next_attempt_at: datetime | None = None
    ack_deadline: datetime | None = None


def due_condition(now: datetime):
    """SQL: pending and due, or held by a worker whose lease ran out (it died or stalled)."""
    return or_(and_(N.c.status == "pending", N.c.next_attempt_at <= now),
               and_(N.c.status == "sending", N.c.lease_until < now))


async def claim(session: AsyncSession, worker: str, now: datetime, limit: int, lease: timedelta, *,
                channel: str | None = None, exclude_channels: Iterable[str] = ()) -> list[Claimed]:
    """Mark up to `limit` due notifications `sending` for `worker` and return them, lapsed leases first.

    Each pick is one statement: UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)
    RETURNING. On PostgreSQL concurrent claimers skip each other's locked rows and re-check rows
    committed meanwhile; SQLite has a single writer, so the statement is atomic there as it is. Each
    pick walks one index range in order (an OR of both conditions would sort every due row each time).
    """
    # A row whose send had begun when its lease lapsed is settled first (settle_begun), never taken as it is.
    lapsed = and_(N.c.status == "sending", N.c.lease_until < now, N.c.attempt_started_at.is_(None))
    due = and_(N.c.status == "pending", N.c.next_attempt_at <= now)
    claimed = await _pick(session, lapsed, (N.c.lease_until,), worker, now, limit, lease, channel, exclude_channels)
    if len(claimed) < limit:
        claimed += await _pick(session, due, (N.c.priority, N.c.next_attempt_at), worker, now, limit - len(claimed),
                               lease, channel, exclude_channels)
    return claimed


async def _pick(session, condition, order, worker, now, limit, lease, channel, exclude_channels) -> list[Claimed]:
    chosen = select(N.c.id).where(condition)
    if channel is not None:
        chosen = chosen.where(N.c.channel == channel)
    excluded = sorted(set(exclude_channels))
    if excluded:
        chosen = chosen.where(N.c.channel.not_in(excluded))
    chosen = chosen.order_by(*order).limit(limit).with_for_update(skip_locked=True)
    statement = (update(N).where(N.c.id.in_(chosen.scalar_subquery()))
                 .values(status="sending", lease_until=now + lease, claimed_by=worker)
                 .returning(N.c.id, N.c.warning_id, N.c.channel, N.c.address, N.c.recipient_name,
                            N.c.payload, N.c.idempotency_key, N.c.attempts, N.c.purpose, N.c.priority))
    rows = (await session.execute(statement)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: (c.priority, c.id))


async def extend_lease(session: AsyncSession, worker: str, ids: list[int], until: datetime) -> None:
    """Keep holding rows still in flight (a slow channel must not let another worker take them)."""
    for part in _chunks(ids):
        await session.execute(update(N).where(N.c.id.in_(part), _held_by(worker)).values(lease_until=until))


async def begin_attempts(session: AsyncSession, worker: str, ids: list[int], now: datetime) -> set[int]:
    """Mark rows begun just before they are sent; the ids still held by `worker` (only those may go out)."""
    begun: set[int] = set()
    for part in _chunks(ids):
        held = and_(N.c.id.in_(_padded(part)), _held_by(worker))
        result = await session.execute(update(N).where(held).values(attempt_started_at=now))
        if result.rowcount == len(set(part)):  # the usual case, without a round trip for RETURNING
            begun.update(part)
        else:
            marked = select(N.c.id).where(held, N.c.attempt_started_at == now)
            begun.update((await session.execute(marked)).scalars())
    return begun


async def unmark_begun(session: AsyncSession, worker: str, ids: list[int]) -> None:
    """Rows marked begun that never went out (their holder is stopping): no attempt to record."""
    for part in _chunks(ids):
        await session.execute(update(N).where(N.c.id.in_(part), _held_by(worker)).values(attempt_started_at=None))


async def settle_begun(session: AsyncSession, condition, now: datetime) -> int:
    """Rows `condition` selects whose send had begun and was never recorded (their holder stopped): record
    that attempt, outcome unknown (INTERRUPTED, by the holder, at the time it began) and clear the mark.

    The rows are locked first, so two workers settling at once record each attempt once."""
    chosen = select(N.c.id, N.c.attempt_started_at, N.c.claimed_by).where(
        condition, N.c.status == "sending", N.c.attempt_started_at.is_not(None)).with_for_update()
    rows = (await session.execute(chosen)).all()
    if not rows:
        return 0
    await bulk_insert_values(session, A, ATTEMPT_COLUMNS, [
        (row.id, row.attempt_started_at or now, False, True, None, INTERRUPTED, row.claimed_by or "") for row in rows])
    for part in _chunks([row.id for row in rows]):
        await session.execute(update(N).where(N.c.id.in_(part))
                              .values(attempts=N.c.attempts + 1, attempt_started_at=None, last_error=INTERRUPTED))
    return len(rows)


async def release(session: AsyncSession, holder: str, now: datetime) -> int:
    """Give every row `holder` still has back to the outbox, due at once (their begun sends settled first)."""
    held = N.c.claimed_by == holder
    await settle_begun(session, held, now)
    result = await session.execute(update(N).where(held, N.c.status == "sending").values(
        status="pending", lease_until=None, claimed_by=None,
        next_attempt_at=func.coalesce(N.c.next_attempt_at, now)))
    return result.rowcount or 0


async def hold(session: AsyncSession, worker: str, until: dict[int, datetime]) -> None:
    """Give claimed rows back unsent, due again at the given times (quiet hours)."""
    if not until:
        return
    await session.execute(
        update(N).where(N.c.id == bindparam("b_id"), _held_by(worker))
        .values(status="pending", next_attempt_at=bindparam("b_next"), lease_until=None, claimed_by=None),
        [{"b_id": key, "b_next": when} for key, when in until.items()])


async def record(session: AsyncSession, worker: str, outcomes: list[Outcome]) -> None:
    """Write outcomes back: a few UPDATEs of the rows and one bulk INSERT of the attempts.

    Deliveries are written per deadline span with one UPDATE … WHERE id IN (…), stamped with the
    latest delivery time of the batch (a fraction of a second at most; each attempt row keeps its own
    exact time); failures and retries, rarer, by an executemany UPDATE. A row is only updated while
    this worker still holds it: a worker whose lease was taken over still records its attempt, and
    the new holder decides the row's fate.
    """
    if not outcomes:
        return
    held = _held_by(worker)
    spans: dict[timedelta | None, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.status == "delivered":
            span = None if outcome.ack_deadline is None else outcome.ack_deadline - outcome.at
            spans.setdefault(span, []).append(outcome)
    for span, group in spans.items():
        at = max(o.at for o in group)
        for part in _chunks([o.id for o in group]):
            await session.execute(update(N).where(N.c.id.in_(_padded(part)), held).values(
                status="delivered", attempts=N.c.attempts + 1, delivered_at=at,
                ack_deadline=None if span is None else at + span, last_error=None, lease_until=None,
                attempt_started_at=None))
    others = [o for o in outcomes if o.status != "delivered"]
    if others:
        await session.execute(
            update(N).where(N.c.id == bindparam("b_id"), held)
            .values(status=bindparam("b_status"), attempts=N.c.attempts + 1, next_attempt_at=bindparam("b_next"),
                    last_error=bindparam("b_error"), lease_until=None, attempt_started_at=None),
            [{"b_id": o.id, "b_status": o.status, "b_next": o.next_attempt_at, "b_error": o.detail}
             for o in others])
    attempts = [(o.id, o.at, o.ok, o.retry, o.http_status, o.detail[:2000], worker) for o in outcomes]
    if len(attempts) < FAST_FROM:  # a batch of the pipeline: one prepared INSERT beats a COPY's set-up
        await session.execute(insert(A), [dict(zip(ATTEMPT_COLUMNS, row)) for row in attempts])
    else:
        await bulk_insert_values(session, A, ATTEMPT_COLUMNS, attempts)


def cancellable_condition(now: datetime):
    """SQL: rows nobody is sending right now (pending, or `sending` under a lapsed lease)."""
    return or_(N.c.status == "pending", and_(N.c.status == "sending", N.c.lease_until < now))


async def cancel_unsent(session: AsyncSession, warning_ids: list[int], now: datetime, reason: str,
                        handoff: Handoff | None = None) -> int:
    """Cancel the not-yet-sent notifications of `warning_ids`; rows in flight finish as they are.

    Rows handed to `handoff` and still waiting in its queue are taken back from it and cancelled too
    (should this transaction fail, their lease lapses and they are sent after all, as they should be).
    """
    if not warning_ids:
        return 0
    values = {"status": "cancelled", "last_error": reason, "lease_until": None, "claimed_by": None}
    # A send begun under a lease that lapsed (its holder stopped) goes on record before its row is cancelled.
    await settle_begun(session, and_(N.c.warning_id.in_(warning_ids), N.c.lease_until < now), now)
    result = await session.execute(
        update(N).where(N.c.warning_id.in_(warning_ids), cancellable_condition(now)).values(**values))
    cancelled = result.rowcount or 0
    withdrawn = handoff.withdraw(set(warning_ids)) if handoff is not None else []
    for part in _chunks(withdrawn):
        result = await session.execute(update(N).where(
            N.c.id.in_(part), N.c.status == "sending", N.c.claimed_by == handoff.worker_id).values(**values))
        cancelled += result.rowcount or 0
    return cancelled


async def cancel_drill_unsent(session: AsyncSession, drill_id: int, now: datetime, reason: str) -> int:
    """Cancel the not-yet-sent messages of a drill (finished or called off); rows in flight finish as they are."""
    await settle_begun(session, and_(N.c.drill_id == drill_id, N.c.lease_until < now), now)
    result = await session.execute(update(N).where(N.c.drill_id == drill_id, cancellable_condition(now)).values(
        status="cancelled", last_error=reason, lease_until=None, claimed_by=None))
    return result.rowcount or 0


def _held_by(worker: str):
    """SQL: rows `worker` holds, for statements that pick rows by id. (The status is compared through
    COALESCE so that the planner finds the rows by id and never walks every `sending` row through the
    status index, as stale statistics after a large fan-out make PostgreSQL do: 10 ms a statement.)"""
    return and_(N.c.claimed_by == worker, func.coalesce(N.c.status, "") == "sending")


def _padded(ids: list[int]) -> list[int]:
    """`ids` with the last repeated up to a power of two: IN lists of a few lengths only, so the driver
    prepares a handful of statements once rather than one per length (the pipeline writes many batches)."""
    size = 1
    while size < len(ids):
        size *= 2
    return ids + ids[-1:] * (size - len(ids))


def _chunks(ids: list[int], size: int = 1000):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
