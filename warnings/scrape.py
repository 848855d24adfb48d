"""The gauges /metrics reads from the database at scrape time (a custom collector): outbox rows by status and
channel, how long the oldest row due has waited per channel, the dispatchers' heartbeats. The queries are bounded
(a row per status and channel, a row per dispatcher) and given SCRAPE_TIMEOUT_SECONDS in all."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.warnings.delivery.liveness import Heartbeats, heartbeats
from fangxun.warnings.delivery.outbox_stats import oldest_due, rows_by_status
from fangxun.warnings.vocabulary import NOTIFICATION_STATUSES

log = logging.getLogger(__name__)

SCRAPE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class DatabaseState:
    """What the database said at one scrape (`up` False: it did not answer in time, the rest is empty)."""

    now: datetime
    up: bool
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_due: dict[str, datetime] = field(default_factory=dict)
    heartbeats: Heartbeats = Heartbeats(())


async def read_state(sessions: async_sessionmaker, now: datetime,
                     timeout: float = SCRAPE_TIMEOUT_SECONDS) -> DatabaseState:
    """The outbox and the heartbeats as of `now` (the service's clock; heartbeats go by the database's)."""
    try:
        async with asyncio.timeout(timeout), sessions() as session:
            return DatabaseState(now, True, await rows_by_status(session), await oldest_due(session, now),
                                 await heartbeats(session))
    except Exception:  # a scrape must still answer: database_up 0 says why the rest is missing
        log.warning("metrics: the database did not answer", exc_info=True)
        return DatabaseState(now, False)


class DatabaseCollector:
    """Metric families of one DatabaseState; `channels` (the configured ones) are shown even when empty."""

    def __init__(self, state: DatabaseState, channels: Iterable[str], stale_seconds: float):
        self.state = state
        self.channels = sorted(set(channels))
        self.stale_seconds = stale_seconds

    def collect(self) -> Iterator[Metric]:
        state = self.state
        up = GaugeMetricFamily("fangxun_database_up", "1 when the database answered this scrape's queries in time")
        up.add_metric([], 1 if state.up else 0)
        yield up
        if not state.up:
            return
        channels = sorted(set(self.channels) | {channel for _, channel in state.rows} | set(state.oldest_due))
        rows = GaugeMetricFamily("fangxun_outbox_rows", "Outbox rows (notifications) by status and channel",
                                 labels=["status", "channel"])
        for status in sorted(set(NOTIFICATION_STATUSES) | {status for status, _ in state.rows}):
            for channel in channels:
                rows.add_metric([status, channel], state.rows.get((status, channel), 0))
        yield rows
        oldest = GaugeMetricFamily("fangxun_outbox_oldest_due_age_seconds",
                                   "How long the longest-waiting row due has waited, per channel (0: none due)",
                                   labels=["channel"])
        for channel in channels:
            since = state.oldest_due.get(channel)
            oldest.add_metric([channel], max(0.0, (state.now - since).total_seconds()) if since else 0.0)
        yield oldest
        beats = state.heartbeats
        age = GaugeMetricFamily("fangxun_dispatcher_heartbeat_age_seconds",
                                "Seconds since the freshest dispatcher heartbeat (+Inf: no dispatcher running)")
        age.add_metric([], math.inf if beats.freshest is None else beats.freshest)
        yield age
        listed = GaugeMetricFamily("fangxun_dispatchers", "Dispatchers on the list, by whether their heartbeat is "
                                   f"fresh (within {self.stale_seconds:g} s)", labels=["state"])
        fresh = beats.fresh(self.stale_seconds)
        listed.add_metric(["fresh"], fresh)
        listed.add_metric(["stale"], len(beats.ages) - fresh)
        yield listed
