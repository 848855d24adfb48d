"""The dispatcher's pump: drains the outbox through the channels, many sends in flight, each marked begun
before it goes and its outcome written back in batches, leases renewed. What an outcome is and when quiet
hours let a row go are the policy's (`policy.py`); rows handed over by the intake of this process wait in
the handoff queue (`handoff.py`); the queues and senders are the pipeline's (`pipeline.py`); the heartbeat
that lets others take over after a crash is in `workers.py`. A stopping dispatcher gives back what it has
not sent."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.core.accounts import signing_secret
from fangxun.core.clock import Clock
from fangxun.core.log_context import log_context
from fangxun.core.memo import PerDict
from fangxun.core.public_base import public_base
from fangxun.settings import Settings
from fangxun.warnings.acks.tokens import ack_token, ack_url
from fangxun.warnings.delivery.channels.base import (Attachable, Channel, ChannelResult, DispatchContext,
                                                     OutgoingMessage)
from fangxun.warnings.delivery.handoff import HandoffQueue
from fangxun.warnings.delivery.outbox import (ACK_SLOT, Claimed, Outcome, begin_attempts, claim, compose, extend_lease,
                                              hold, record, release, unmark_begun)
from fangxun.warnings.delivery.writeback import single_statement, write_back
from fangxun.warnings.delivery.outcome_log import report_outcome
from fangxun.warnings.delivery.pipeline import MAX_BEGUN_PER_SENDER, Pipeline
from fangxun.warnings.delivery.policy import DeliveryPolicy, backoff
from fangxun.warnings.delivery.workers import HEARTBEAT_SECONDS, STALE_SECONDS, Heartbeat, forget
from fangxun.warnings.tables import Warning

__all__ = ["Dispatcher", "UNKNOWN_CHANNEL", "backoff", "channel_fields"]

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = "未配置的通知渠道"
_OTHER = object()  # the claim slot of rows whose channel is not configured
_UNKNOWN_WARNING = (None, False)  # (colour, all-clear) of a warning not loaded
WARNING_CACHE = 1000
# How soon the pump looks again when nothing wakes it, and asks a drained channel again when it drains
# until idle.
TICK = 0.1
# Payload fields that make up the message text rather than travel beside it.
MESSAGE_PARTS = frozenset(("title", "text", "message", "title_prefix", "note", "duty"))
# How long a stopping dispatcher lets its sends in flight finish; those still running then are cut off (and
# on record as interrupted: they may have gone out).
STOP_GRACE_SECONDS = 5.0
CAP_PER_SENDER = MAX_BEGUN_PER_SENDER + 4


def channel_fields(payload: dict) -> dict:
    """The payload fields a channel passes on beside the message (not the parts of its text)."""
    return {key: value for key, value in payload.items() if key not in MESSAGE_PARTS}


class Dispatcher:
    """Sends due notifications; several dispatchers may share one outbox (rows are claimed under a lease)."""

    def __init__(self, sessions: async_sessionmaker, channels: Mapping[str, Channel], settings: Settings,
                 clock: Clock, worker_id: str, *, batch_size: int = 500, lease: timedelta = timedelta(seconds=120),
                 flush_every: float = 1.0, flush_size: int = 5000, poll_seconds: float = 1.0,
                 ack_base_url: str | None = None, rng: random.Random | None = None,
                 stop_grace: float = STOP_GRACE_SECONDS, heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 stale_seconds: float = STALE_SECONDS):
        self.sessions = sessions
        self._engine = sessions.kw["bind"]
        self.channels = dict(channels)
        self.settings = settings
        self.clock = clock
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease = lease
        # Outcomes are written back with the marks of the next rows begun (a channel's senders must not run
        # dry), else once `flush_size` have gathered, when nothing is left to send, or `flush_every` seconds
        # after the last write.
        self.flush_every = flush_every
        self.flush_size = flush_size
        self.poll_seconds = poll_seconds
        self.stop_grace = stop_grace
        self.ack_base_url = ack_base_url or public_base(settings.server).url
        # Channels with records of their own (the voice channel's calls) keep them in our database.
        context = DispatchContext(sessions, clock.now, self.ack_base_url)
        for channel in self.channels.values():
            if isinstance(channel, Attachable):
                channel.attach(context)
        self.rng = rng or random.Random()
        self.policy = DeliveryPolicy(settings.warnings, self.rng)
        self._secret: bytes | None = None
        self._warnings: dict[int, tuple[str | None, bool]] = {}  # id -> (colour, all-clear)
        self._messages: dict[int, dict] = {}  # id -> the warning's shared messages
        # Rows from one intake share their payload, so their messages share this (read-only) dict.
        self._extra = PerDict(channel_fields)
        # A channel may hold a few rounds of its own concurrency queued or in flight (beyond the most it may
        # have begun), so a slow one cannot take every claim (the others keep going) while a fast one always
        # has work queued.
        config = settings.warnings.channels
        self._caps = {name: max(128, CAP_PER_SENDER * config[name].concurrency) if name in config else 128
                      for name in self.channels}
        # Senders per channel: as many as its gate lets through at once (rows of unknown channels only
        # fail, so one will do).
        self._senders: dict[object, int] = {name: config[name].concurrency if name in config else 16
                                            for name in self.channels}
        self._senders[_OTHER] = 1
        # Rows the intake of this process wrote leased to us (Handoff), not yet started.
        self._handed = HandoffQueue(self._slot)
        self._nudge = asyncio.Event()
        self._fresh_rows = False  # another worker's rows were given back: look for due rows at once
        self._heart = Heartbeat(sessions, worker_id, clock.now, every=heartbeat_seconds, stale=stale_seconds,
                                taken_over=self._rows_given_back)

    # --- handoff (outbox.Handoff) -------------------------------------------------------------

    def take(self, rows: list[Claimed]) -> None:
        """Queue committed rows leased to this worker; they go out ahead of any claim."""
        self._handed.put(rows)
        self._nudge.set()

    def withdraw(self, warning_ids: set[int]) -> list[int]:
        """Take back the queued rows of `warning_ids` (superseded or cancelled before they went)."""
        return self._handed.withdraw(warning_ids)

    def know(self, warning_id: int, colour: str | None, all_clear: bool, messages: dict) -> None:
        """The colour, all-clear and shared messages of a warning whose rows are about to be handed over: they go
        straight to the senders (_top_up) without an exchange to read the warning first."""
        self._warnings[warning_id] = (colour, bool(all_clear))
        self._messages[warning_id] = messages or {}

    def handed_ids(self) -> set[int]:
        """Ids of rows handed over and not yet started (their leases are kept alive too)."""
        return self._handed.ids()

    # --- public loops -------------------------------------------------------------------------

    async def run_once(self, limit: int = 500) -> int:
        """Claim up to `limit` due rows, send them all concurrently, record the outcomes; rows claimed.
        (All are marked begun at once: a crash meanwhile may send up to `limit` twice, each on record.)"""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            claimed = await claim(session, self.worker_id, now, limit, self.lease)
            if not claimed:
                return 0
            await self._load_warnings(session, {row.warning_id for row in claimed})
            later = self._quiet(claimed, now)
            await hold(session, self.worker_id, later)
            begun = await begin_attempts(session, self.worker_id, [row.id for row in claimed if row.id not in later],
                                         now)
        outcomes = await asyncio.gather(*(self._send(row) for row in claimed if row.id in begun))
        async with self.sessions() as session, session.begin():
            await record(session, self.worker_id, list(outcomes))
        return len(claimed)

    async def run_until_idle(self) -> int:
        """Drain everything due now (sending as it goes); returns the number of rows handled."""
        return await self._pump(stop=None, until_idle=True)

    async def run_forever(self, stop: asyncio.Event) -> int:
        """Drain continuously, polling for new rows, until `stop` is set; then sends in flight get
        `stop_grace` seconds to finish, and every row not sent is given back to the outbox at once."""
        return await self._pump(stop=stop, until_idle=False)

    # --- the pipeline -------------------------------------------------------------------------

    async def _pump(self, stop: asyncio.Event | None, until_idle: bool) -> int:
        """Keep each channel's queue of rows full for its senders; write outcomes back, mark the next rows
        begun and claim more in one transaction, so the database sees a few statements per batch rather than
        one per notification. A heartbeat runs beside it; whatever is not sent at the end is given back."""
        state = Pipeline(self._send, self._senders)
        await self._heart.enter()
        heart = asyncio.create_task(self._heart.run(), name=f"fangxun-heartbeat-{self.worker_id}")
        try:
            return await self._drive(state, stop, until_idle)
        finally:
            # Senders still running are cut off: their rows stay marked begun, and the give-back records
            # them as interrupted (they may have gone out) before another worker sends them again.
            heart.cancel()
            await state.close()
            await asyncio.gather(heart, return_exceptions=True)
            await self._give_back(state)

    async def _drive(self, state: Pipeline, stop: asyncio.Event | None, until_idle: bool) -> int:
        # The exchange (outcomes written back, rows marked begun, more rows claimed) runs beside the sending:
        # while it waits on the database, the senders keep going with the rows begun before.
        stopping_since = None
        while True:
            state.wake.clear()  # an outcome or the exchange finishing from here on wakes the wait below
            if stopping_since is None and stop is not None and stop.is_set():
                stopping_since = time.monotonic()
                state.drop_unsent()
                self._handed.clear()  # leased to us in the database: given back with the rest
            stopping = stopping_since is not None
            if state.exchange is not None and state.exchange.done():
                for row in state.exchange.result():
                    if not stopping:
                        state.enqueue(row, self._slot(row.channel))
                state.exchange = None
            if stopping:
                # Sends in flight finish (their outcomes are written with the give-back), within the grace;
                # an exchange still waiting on the database then is cut off too (and rolled back).
                if (state.exchange is None and not state.sending()) or \
                        time.monotonic() - stopping_since >= self.stop_grace:
                    return state.handled
                await self._wait(state)
                continue
            self._top_up(state)
            # Between exchanges (the two would update the same rows in two transactions), and before the
            # next one starts: back-to-back exchanges on a slow database must not starve the leases.
            if state.exchange is None and time.monotonic() - state.last_renewal >= self.lease.total_seconds() / 3:
                await self._renew_leases(state.held | self.handed_ids())
                state.last_renewal = time.monotonic()
            now = time.monotonic()
            if self._fresh_rows:
                self._fresh_rows = False
                state.dry_until.clear()
            if state.exchange is None:
                wanted = self._wanted(state, now)
                begin = state.take_to_begin()
                flush_due = bool(state.buffered) and (len(state.buffered) >= self.flush_size or not state.active()
                                                      or now - state.last_flush >= self.flush_every)
                if wanted or begin or flush_due:
                    state.exchange = asyncio.create_task(self._exchange(state, wanted, begin, until_idle))
                    state.exchange.add_done_callback(lambda _: state.wake.set())
            if not state.active() and state.exchange is None:
                if state.buffered:
                    continue
                if until_idle and self._all_dry(state.dry_until):
                    return state.handled
                if until_idle:
                    # Only rows given back for quiet hours, or channels asked again shortly: no spin.
                    await asyncio.sleep(TICK / 10)
                else:
                    await self._idle_wait(stop)
                    state.dry_until.clear()
                continue
            await self._wait(state)

    @staticmethod
    async def _wait(state: Pipeline) -> None:
        try:
            await asyncio.wait_for(state.wake.wait(), timeout=TICK)
        except asyncio.TimeoutError:
            pass

    def _top_up(self, state: Pipeline) -> None:
        """Move handed rows straight into their channel's queue while it has room: no transaction is
        needed once their warning is known and not held by quiet hours (the next exchange takes others)."""
        if not self._handed.pending():
            return
        known, release = self._warnings, self._releases(self.clock.now())
        self._handed.hand_out(lambda key: self._caps.get(key, self.batch_size) - state.busy(key),
                              lambda warning_id: warning_id in known and release(warning_id) is None, state.enqueue)

    def _slot(self, channel: str) -> object:
        return channel if channel in self.channels else _OTHER

    def _all_dry(self, dry_until: dict[object, float]) -> bool:
        return all(key in dry_until for key in [*self.channels, _OTHER]) and not self._handed.pending()

    def _wanted(self, state: Pipeline, now: float) -> list[tuple[object, int]]:
        """(channel, rows) to claim: channels not found empty lately whose window is half free."""
        wanted = []
        for key in [*self.channels, _OTHER]:
            if state.dry_until.get(key, 0) > now and not self._handed.pending(key):
                continue
            window = min(self.batch_size, self._caps.get(key, self.batch_size))
            room = min(window, self._caps.get(key, self.batch_size) - state.busy(key))
            if room >= max(1, window // 2):
                wanted.append((key, room))
        return wanted

    async def _exchange(self, state: Pipeline, wanted: list[tuple[object, int]], begin: dict[object, list[Claimed]],
                        until_idle: bool) -> list[Claimed]:
        """One transaction: write the buffered outcomes, mark the rows of `begin` begun (then they go to
        the senders), claim what `wanted` asks for, give back quiet-hour rows (with nothing to claim, on
        PostgreSQL, one statement). Returns the rows claimed; on a database failure, logs, puts the rows back
        and sends nothing new."""
        outcomes = list(state.buffered)
        now, now_mono = self.clock.now(), time.monotonic()
        ids = [row.id for rows in begin.values() for row in rows]
        ready: list[Claimed] = []
        taken: list[Claimed] = []  # handed rows taken for this exchange, given back if it fails
        try:
            if wanted or not single_statement(self._engine.dialect.name):
                async with self.sessions() as session, session.begin():
                    marked = await write_back(session, self.worker_id, outcomes, ids, now)
                    ready = await self._claim_wanted(session, state, wanted, taken, now, until_idle)
            else:  # the usual exchange of a busy pump: one statement, without the round trips of a transaction
                async with self._engine.connect() as connection:
                    connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
                    marked = await write_back(connection, self.worker_id, outcomes, ids, now)
        except Exception:  # the loop survives a database hiccup, logged; outcomes stay buffered
            log.exception("writing outcomes / claiming failed (worker %s)", self.worker_id)
            self._handed.put_back(taken)
            state.put_back(begin)
            await asyncio.sleep(min(1.0, self.poll_seconds))
            return []
        state.written(len(outcomes))
        state.begun(begin, marked)
        state.last_flush = now_mono
        return ready

    async def _claim_wanted(self, session, state: Pipeline, wanted: list[tuple[object, int]], taken: list[Claimed],
                            now: datetime, until_idle: bool) -> list[Claimed]:
        """Per slot of `wanted`, handed rows first, then rows claimed; the quiet-hour ones given back. The rows
        to send (handed ones are added to `taken`, to be put back should the transaction fail)."""
        now_mono = time.monotonic()
        claimed: list[Claimed] = []
        for key, room in wanted:
            handed = self._handed.take(key, room)
            taken += handed
            rows: list[Claimed] = []
            if len(handed) < room:
                wanted_rows = room - len(handed)
                if key is _OTHER:
                    rows = await claim(session, self.worker_id, now, wanted_rows, self.lease,
                                       exclude_channels=self.channels)
                else:
                    rows = await claim(session, self.worker_id, now, wanted_rows, self.lease, channel=key)
                if len(rows) < wanted_rows:
                    # Nothing more due there now: ask again after a poll interval (when draining
                    # until idle, soon: rows in flight may be due again by then).
                    state.dry_until[key] = now_mono + (TICK if until_idle else self.poll_seconds)
                else:
                    state.dry_until.pop(key, None)
            claimed += handed + rows
        if not claimed:
            return []
        await self._load_warnings(session, {row.warning_id for row in claimed})
        later = self._quiet(claimed, now)
        await hold(session, self.worker_id, later)
        return [row for row in claimed if row.id not in later]

    async def _give_back(self, state: Pipeline) -> None:
        """The end of a run: write the outcomes not yet on record, and give every row still leased to us
        back to the outbox, due at once (a send cut off is on record as interrupted); leave the list of
        the living. Should the database fail now, the others take the rows over once our heartbeat is stale."""
        try:
            async with self.sessions() as session, session.begin():
                await forget(session, self.worker_id)  # a write first: on SQLite the lock is ours from here
                await record(session, self.worker_id, state.buffered)
                await unmark_begun(session, self.worker_id, state.unsent_begun)
                released = await release(session, self.worker_id, self.clock.now())
        except Exception:
            log.exception("giving back the rows of worker %s failed", self.worker_id)
            return
        state.written(len(state.buffered))
        if released:
            log.info("dispatcher %s stopped: %d unsent rows given back to the outbox", self.worker_id, released)

    def _rows_given_back(self) -> None:
        """Rows of a dead worker are due again: claim them without waiting for the next poll."""
        self._fresh_rows = True
        self._nudge.set()

    async def _idle_wait(self, stop: asyncio.Event | None) -> None:
        """Sleep a poll interval, or less: until stopped or handed new rows."""
        self._nudge.clear()
        if self._handed.pending():
            return
        waits = [asyncio.ensure_future(self._nudge.wait())]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    # --- sending ------------------------------------------------------------------------------

    async def _send(self, row: Claimed) -> Outcome:
        """One attempt; whatever happens becomes an Outcome (this is the one place that catches broadly)."""
        with log_context(notification_id=row.id, warning_id=row.warning_id, channel=row.channel):
            channel = self.channels.get(row.channel)
            if channel is None:
                return self._outcome(row, ChannelResult(ok=False, retry=False,
                                                        detail=f"{UNKNOWN_CHANNEL} {row.channel}"))
            try:
                result = await channel.send(self._message(row))
            except Exception as exc:  # a channel bug must not stop the loop; the row is retried
                log.exception("channel %s raised on notification %s", row.channel, row.id)
                result = ChannelResult(ok=False, retry=True, detail=f"internal error: {type(exc).__name__}")
            return self._outcome(row, result)

    def _message(self, row: Claimed) -> OutgoingMessage:
        url = ack_url(self.ack_base_url, row.ack_token or ack_token(self._secret, row.idempotency_key))
        payload = row.payload or {}
        title, text = compose(payload, self._messages.get(row.warning_id, {}), row.recipient_name, row.duty)
        title, text = title.replace(ACK_SLOT, url), text.replace(ACK_SLOT, url)
        # A message nobody has to answer (an all-clear) gives the channels no link to ask for 叫应 with.
        colour, all_clear = self._warnings.get(row.warning_id, _UNKNOWN_WARNING)
        asked = url if self.policy.ack_span(colour, all_clear) is not None else ""
        return OutgoingMessage(recipient_name=row.recipient_name, address=row.address, title=title, text=text,
                               ack_url=asked, idempotency_key=row.idempotency_key, payload=self._extra(payload))

    def _outcome(self, row: Claimed, result: ChannelResult) -> Outcome:
        at = self.clock.now()
        colour, all_clear = self._warnings.get(row.warning_id, _UNKNOWN_WARNING)
        status, next_attempt_at, ack_deadline = self.policy.verdict(result, row.attempts + 1, colour, all_clear, at)
        if status == "delivered" and row.payload and row.payload.get("ack_minutes"):  # a drill's own deadline
            ack_deadline = at + timedelta(minutes=row.payload["ack_minutes"])
        report_outcome(row, status, result.detail, next_attempt_at)
        return Outcome(row.id, status, at, result.ok, not result.ok and result.retry, result.status, result.detail,
                       next_attempt_at, ack_deadline)

    def _quiet(self, claimed: list[Claimed], now: datetime) -> dict[int, datetime]:
        """Rows of blue/yellow warnings due inside quiet hours, with the window's end."""
        release = self._releases(now)
        return {row.id: until for row in claimed if (until := release(row.warning_id)) is not None}

    def _releases(self, now: datetime) -> Callable[[int], datetime | None]:
        """Per warning: when its rows due at `now` may go out, or None: now."""
        return self.policy.releases(now, lambda warning_id: self._warnings.get(warning_id, _UNKNOWN_WARNING)[0])

    # --- bookkeeping --------------------------------------------------------------------------

    async def _renew_leases(self, held_ids: set[int]) -> None:
        if not held_ids:
            return
        try:
            async with self.sessions() as session, session.begin():
                await extend_lease(session, self.worker_id, sorted(held_ids), self.clock.now() + self.lease)
        except Exception:
            log.exception("extending leases failed (worker %s)", self.worker_id)

    async def _load_warnings(self, session, ids: set[int]) -> None:
        """Colour and all-clear of the claimed rows' warnings (cached), and the secret ack links need."""
        if self._secret is None:
            self._secret = await signing_secret(session)
        if len(self._warnings) > WARNING_CACHE:  # a long-running dispatcher forgets old warnings
            self._warnings.clear()
            self._messages.clear()
        missing = sorted(ids - set(self._warnings) - {None})  # None: a notice of no warning
        if missing:
            rows = await session.execute(select(Warning.id, Warning.colour, Warning.all_clear, Warning.messages)
                                         .where(Warning.id.in_(missing)))
            for row in rows:
                self._warnings[row.id] = (row.colour, bool(row.all_clear))
                self._messages[row.id] = row.messages or {}

