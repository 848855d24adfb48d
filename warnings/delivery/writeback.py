"""The pump's bookkeeping in as few round trips as the database allows: the outcomes of finished sends written back
and the next rows marked begun together. On PostgreSQL that is one statement (arrays unnested in data-modifying
CTEs), which needs no transaction around it to be atomic; elsewhere outbox.record and outbox.begin_attempts in the
caller's transaction.

Each round trip costs the pump a turn of a busy event loop (a few milliseconds while it sends), and the senders
wait for the marks: the fewer, the fewer rows need marking ahead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fangxun.warnings.delivery.outbox import A, N, Outcome, begin_attempts, record

# The row's new state as outbox.record writes it (a delivery keeps its next_attempt_at, any other outcome its
# ack_deadline), the attempts inserted, and the rows to begin marked while still held by the worker.
_STATEMENT = text(f"""
WITH outcome (id, status, at, ok, retry, http_status, detail, next_at, deadline) AS (
    SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:statuses AS varchar[]), CAST(:ats AS timestamptz[]),
                         CAST(:oks AS boolean[]), CAST(:retries AS boolean[]), CAST(:http AS integer[]),
                         CAST(:details AS text[]), CAST(:nexts AS timestamptz[]), CAST(:deadlines AS timestamptz[]))
), written AS (
    UPDATE {N.name} AS n SET
        status = o.status, attempts = n.attempts + 1, lease_until = NULL, attempt_started_at = NULL,
        delivered_at = CASE WHEN o.status = 'delivered' THEN o.at ELSE n.delivered_at END,
        ack_deadline = CASE WHEN o.status = 'delivered' THEN o.deadline ELSE n.ack_deadline END,
        next_attempt_at = CASE WHEN o.status = 'delivered' THEN n.next_attempt_at ELSE o.next_at END,
        last_error = CASE WHEN o.status = 'delivered' THEN NULL ELSE o.detail END
    FROM outcome AS o
    WHERE n.id = o.id AND n.id = ANY(CAST(:ids AS integer[])) AND n.claimed_by = :worker
        AND COALESCE(n.status, '') = 'sending'
), attempts AS (
    INSERT INTO {A.name} (notification_id, at, ok, retry, status, detail, worker)
    SELECT id, at, ok, retry, http_status, left(detail, 2000), :worker FROM outcome
)
UPDATE {N.name} SET attempt_started_at = :now
WHERE id = ANY(CAST(:begin AS integer[])) AND claimed_by = :worker AND COALESCE(status, '') = 'sending'
RETURNING id
""")


def single_statement(dialect_name: str) -> bool:
    """Whether `write_back` is one statement there (then it may run outside a transaction)."""
    return dialect_name == "postgresql"


async def write_back(executor: AsyncSession | AsyncConnection, worker: str, outcomes: list[Outcome],
                     begin_ids: list[int], now: datetime) -> set[int]:
    """Record `outcomes` and mark `begin_ids` begun; the ids marked (those still held by `worker`: only they may
    go out)."""
    dialect = executor.bind.dialect if isinstance(executor, AsyncSession) else executor.dialect
    if not single_statement(dialect.name):
        await record(executor, worker, outcomes)
        return await begin_attempts(executor, worker, begin_ids, now) if begin_ids else set()
    if not outcomes and not begin_ids:
        return set()
    columns = list(zip(*outcomes)) if outcomes else [()] * len(Outcome._fields)
    ids, statuses, ats, oks, retries, http, details, nexts, deadlines = columns
    result = await executor.execute(_STATEMENT, {
        "ids": list(ids), "statuses": list(statuses), "ats": list(ats), "oks": list(oks), "retries": list(retries),
        "http": list(http), "details": list(details), "nexts": list(nexts), "deadlines": list(deadlines),
        "worker": worker, "now": now, "begin": begin_ids})
    return set(result.scalars())
