"""The dispatcher: drains the outbox through the channels, many sends in flight, outcomes written in batches."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.accounts import signing_secret
from fangxun.clock import Clock
from fangxun.settings import Settings
from fangxun.warnings.acks import ack_token, ack_url
from fangxun.warnings.channels.base import Channel, ChannelResult, OutgoingMessage
from fangxun.warnings.deadlines import ack_deadline
from fangxun.warnings.intake import ACK_SLOT
from fangxun.warnings.outbox import Claimed, Outcome, claim, extend_lease, hold, record
from fangxun.warnings.quiet_hours import release_time
from fangxun.warnings.tables import Warning

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = "未配置的通知渠道"
_OTHER = object()  # the claim slot of rows whose channel is not configured


def backoff(attempt: int, base: float, cap: float, jitter: float, rng: random.Random,
            retry_after: float | None = None) -> float:
    """Seconds before try `attempt + 1`: base * 2**(attempt - 1), capped, ± jitter; never before Retry-After."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    delay *= 1 + jitter * (2 * rng.random() - 1)
    return max(delay, retry_after or 0.0)


class Dispatcher:
    """Sends due notifications; several dispatchers may share one outbox (rows are claimed under a lease)."""

    def __init__(self, sessions: async_sessionmaker, channels: Mapping[str, Channel], settings: Settings,
                 clock: Clock, worker_id: str, *, batch_size: int = 500, lease: timedelta = timedelta(seconds=120),
                 flush_every: float = 0.05, flush_size: int = 300, poll_seconds: float = 1.0,
                 ack_base_url: str | None = None, rng: random.Random | None = None):
        self.sessions = sessions
        self.channels = dict(channels)
        self.settings = settings
        self.clock = clock
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.lease = lease
        self.flush_every = flush_every
        self.flush_size = flush_size
        self.poll_seconds = poll_seconds
        server = settings.server
        self.ack_base_url = ack_base_url or getattr(server, "public_url", "") or f"http://{server.host}:{server.port}"
        self.rng = rng or random.Random()
        self._secret: bytes | None = None
        self._warnings: dict[int, tuple[str | None, str]] = {}  # id -> (colour, msg_type)
        # A channel may hold a few rounds of its own concurrency in flight, so a slow one cannot
        # take every slot (the others keep going) while a fast one always has work queued.
        config = settings.warnings.channels
        self._caps = {name: max(32, 4 * config[name].concurrency) if name in config else 32
                      for name in self.channels}

    # --- public loops -------------------------------------------------------------------------

    async def run_once(self, limit: int = 500) -> int:
        """Claim up to `limit` due rows, send them all concurrently, record the outcomes; rows claimed."""
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            claimed = await claim(session, self.worker_id, now, limit, self.lease)
        if not claimed:
            return 0
        ready = await self._hold_quiet(claimed)
        outcomes = await asyncio.gather(*(self._send(row) for row in ready))
        await self._flush(list(outcomes))
        return len(claimed)

    async def run_until_idle(self) -> int:
        """Drain everything due now (sending as it goes); returns the number of rows handled."""
        return await self._pump(stop=None, until_idle=True)

    async def run_forever(self, stop: asyncio.Event) -> int:
        """Drain continuously, polling for new rows, until `stop` is set; in-flight sends finish first."""
        return await self._pump(stop=stop, until_idle=False)

    # --- the pipeline -------------------------------------------------------------------------

    async def _pump(self, stop: asyncio.Event | None, until_idle: bool) -> int:
        in_flight: dict[asyncio.Task, Claimed] = {}
        per_channel: dict[object, int] = {}
        buffered: list[Outcome] = []
        held_ids: set[int] = set()  # sending under our lease and not yet written back
        dry_until: dict[object, float] = {}
        handled = 0
        last_flush = last_beat = time.monotonic()
        while True:
            stopping = stop is not None and stop.is_set()
            if not stopping:
                for row in await self._claim_safely(per_channel, dry_until, until_idle):
                    task = asyncio.create_task(self._send(row))
                    in_flight[task] = row
                    per_channel[self._slot(row.channel)] = per_channel.get(self._slot(row.channel), 0) + 1
                    held_ids.add(row.id)
                    handled += 1
            if not in_flight:
                await self._flush_safely(buffered, held_ids)
                if buffered:
                    continue
                if stopping or (until_idle and self._all_dry(dry_until)):
                    return handled
                if not until_idle:
                    await self._idle_wait(stop)
                    dry_until.clear()
                continue
            done, _ = await asyncio.wait(in_flight, timeout=self.flush_every, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                row = in_flight.pop(task)
                per_channel[self._slot(row.channel)] -= 1
                buffered.append(task.result())
            now = time.monotonic()
            if len(buffered) >= self.flush_size or (buffered and now - last_flush >= self.flush_every):
                await self._flush_safely(buffered, held_ids)
                last_flush = now
            if now - last_beat >= self.lease.total_seconds() / 3:
                await self._heartbeat(held_ids)
                last_beat = now

    def _slot(self, channel: str) -> object:
        return channel if channel in self.channels else _OTHER

    async def _claim_safely(self, per_channel: dict[object, int], dry_until: dict[object, float],
                            until_idle: bool) -> list[Claimed]:
        """Claimed rows ready to send (quiet-hour rows already given back); [] after a logged failure."""
        try:
            return await self._hold_quiet(await self._claim_round(per_channel, dry_until, until_idle))
        except Exception:  # the loop survives a database hiccup, logged, and tries again
            log.exception("claiming failed (worker %s)", self.worker_id)
            await asyncio.sleep(min(1.0, self.poll_seconds))
            return []

    def _all_dry(self, dry_until: dict[object, float]) -> bool:
        return all(key in dry_until for key in [*self.channels, _OTHER])

    async def _claim_round(self, per_channel: dict[object, int], dry_until: dict[object, float],
                           until_idle: bool) -> list[Claimed]:
        """One short transaction claiming, for each channel with room, up to its room in due rows."""
        now_mono = time.monotonic()
        wanted: list[tuple[object, int]] = []
        for key in [*self.channels, _OTHER]:
            if dry_until.get(key, 0) > now_mono:
                continue
            cap = self._caps.get(key, 32) if key is not _OTHER else self.batch_size
            room = min(self.batch_size, cap - per_channel.get(key, 0))
            # Claim in useful batches: wait until a quarter of the channel's window is free.
            if room >= max(1, cap // 4):
                wanted.append((key, room))
        if not wanted:
            return []
        now = self.clock.now()
        claimed: list[Claimed] = []
        async with self.sessions() as session, session.begin():
            for key, room in wanted:
                if key is _OTHER:
                    rows = await claim(session, self.worker_id, now, room, self.lease,
                                       exclude_channels=self.channels)
                else:
                    rows = await claim(session, self.worker_id, now, room, self.lease, channel=key)
                if len(rows) < room:
                    # Nothing more due there for now: look again after a poll interval (or, when
                    # draining until idle, shortly: what is in flight may be written back by then).
                    dry_until[key] = now_mono + (self.flush_every if until_idle else self.poll_seconds)
                else:
                    dry_until.pop(key, None)
                claimed += rows
        if claimed:
            await self._load_warnings({row.warning_id for row in claimed})
        return claimed

    async def _idle_wait(self, stop: asyncio.Event | None) -> None:
        if stop is None:
            await asyncio.sleep(self.poll_seconds)
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
        except asyncio.TimeoutError:
            pass

    # --- sending ------------------------------------------------------------------------------

    async def _send(self, row: Claimed) -> Outcome:
        """One attempt; whatever happens becomes an Outcome (this is the one place that catches broadly)."""
        channel = self.channels.get(row.channel)
        if channel is None:
            return self._outcome(row, ChannelResult(ok=False, retry=False, detail=f"{UNKNOWN_CHANNEL} {row.channel}"))
        try:
            result = await channel.send(await self._message(row))
        except Exception as exc:  # a channel bug must not stop the loop; the row is retried
            log.exception("channel %s raised on notification %s", row.channel, row.id)
            result = ChannelResult(ok=False, retry=True, detail=f"internal error: {type(exc).__name__}")
        return self._outcome(row, result)

    async def _message(self, row: Claimed) -> OutgoingMessage:
        url = ack_url(self.ack_base_url, ack_token(await self._signing_secret(), row.idempotency_key))
        payload = dict(row.payload or {})
        title = str(payload.pop("title", "")).replace(ACK_SLOT, url)
        text = str(payload.pop("text", "")).replace(ACK_SLOT, url)
        return OutgoingMessage(recipient_name=row.recipient_name, address=row.address, title=title, text=text,
                               ack_url=url, idempotency_key=row.idempotency_key, payload=payload)

    def _outcome(self, row: Claimed, result: ChannelResult) -> Outcome:
        at = self.clock.now()
        retry = self.settings.warnings.retry
        attempt = row.attempts + 1
        colour, msg_type = self._warnings.get(row.warning_id, (None, "Alert"))
        if result.ok:
            # A 解除 (Cancel) only informs: nobody has to answer it.
            deadline = None if msg_type == "Cancel" else ack_deadline(colour, at, self.settings.warnings)
            return Outcome(row.id, "delivered", at, True, False, result.status, result.detail, ack_deadline=deadline)
        if not result.retry:
            return Outcome(row.id, "failed", at, False, False, result.status, result.detail)
        if attempt >= retry.max_attempts:
            return Outcome(row.id, "dead", at, False, True, result.status, result.detail)
        delay = backoff(attempt, retry.base_seconds, retry.max_seconds, retry.jitter, self.rng, result.retry_after)
        return Outcome(row.id, "pending", at, False, True, result.status, result.detail,
                       next_attempt_at=at + timedelta(seconds=delay))

    async def _hold_quiet(self, claimed: list[Claimed]) -> list[Claimed]:
        """Rows of blue/yellow warnings due inside quiet hours go back, due at the window's end."""
        now = self.clock.now()
        quiet = self.settings.warnings.quiet_hours
        later: dict[int, datetime] = {}
        for row in claimed:
            colour = self._warnings.get(row.warning_id, (None, ""))[0]
            release = release_time(colour, now, quiet)
            if release is not None:
                later[row.id] = release
        if later:
            async with self.sessions() as session, session.begin():
                await hold(session, self.worker_id, later)
        return [row for row in claimed if row.id not in later]

    # --- bookkeeping --------------------------------------------------------------------------

    async def _flush(self, outcomes: list[Outcome]) -> None:
        async with self.sessions() as session, session.begin():
            await record(session, self.worker_id, outcomes)

    async def _flush_safely(self, buffered: list[Outcome], held_ids: set[int]) -> None:
        if not buffered:
            return
        batch = list(buffered)
        try:
            await self._flush(batch)
        except Exception:  # keep the outcomes and try again on the next round
            log.exception("recording %d outcomes failed (worker %s)", len(batch), self.worker_id)
            await asyncio.sleep(min(1.0, self.poll_seconds))
            return
        del buffered[:len(batch)]
        held_ids.difference_update(outcome.id for outcome in batch)

    async def _heartbeat(self, held_ids: set[int]) -> None:
        if not held_ids:
            return
        try:
            async with self.sessions() as session, session.begin():
                await extend_lease(session, self.worker_id, sorted(held_ids), self.clock.now() + self.lease)
        except Exception:
            log.exception("extending leases failed (worker %s)", self.worker_id)

    async def _signing_secret(self) -> bytes:
        if self._secret is None:
            async with self.sessions() as session, session.begin():
                self._secret = await signing_secret(session)
        return self._secret

    async def _load_warnings(self, ids: set[int]) -> None:
        missing = sorted(ids - set(self._warnings))
        if not missing:
            return
        async with self.sessions() as session:
            rows = await session.execute(select(Warning.id, Warning.colour, Warning.msg_type)
                                         .where(Warning.id.in_(missing)))
            self._warnings.update((row.id, (row.colour, row.msg_type)) for row in rows)
