"""The scheduler's reminder pass: a chunk of candidates per transaction, the event loop free between chunks, so
a wave of tens of thousands of reminders never holds up a new warning (its rows are claimed after every first
notice: vocabulary.priority)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.settings import Settings
from fangxun.warnings.acks.escalation import ROWS_PER_CHUNK, FollowUpPass, due_ids

# After each chunk the pass pauses this share of the time the chunk took (at most MAX_PAUSE seconds): a wave
# takes at most about half of the event loop, and new warnings, requests and the dispatcher have the rest.
PAUSE_SHARE = 1.0
MAX_PAUSE = 1.0


async def run_pass(sessions: async_sessionmaker, now: datetime, settings: Settings,
                   rows_per_chunk: int = ROWS_PER_CHUNK) -> int:
    """Remind and escalate what is due at `now`, `rows_per_chunk` candidates per transaction; returns rows created.

    Each chunk commits on its own, then the pass pauses (PAUSE_SHARE). A crash mid-pass keeps what was made and
    the next pass takes the rest (each row is taken by a conditional UPDATE, so nothing is made twice, here or by
    another process's pass).
    """
    async with sessions() as session, session.begin():
        chunks = await due_ids(session, now, settings, rows_per_chunk)
    wave = FollowUpPass(settings, now)
    created = 0
    for number, chunk in enumerate(chunks, 1):
        began = time.monotonic()
        async with sessions() as session, session.begin():
            created += await wave.chunk(session, chunk)
        if number < len(chunks):
            await asyncio.sleep(min(MAX_PAUSE, PAUSE_SHARE * (time.monotonic() - began)))
    return created
