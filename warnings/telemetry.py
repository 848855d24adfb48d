"""What this process counts as it works, for /metrics (prometheus_client's process registry): sends and their
latency per channel, outcomes, 叫应 by way, reminders and escalations, feed polls. The outbox's state is read
from the database at scrape time instead (warnings/scrape.py)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram, Info, disable_created_metrics

import fangxun
from fangxun.warnings.acks.ways import ack_way

# Seconds from handing a message to a channel (past its rate gate) to the provider's answer.
SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# An outcome's status in the outbox -> its name here: "pending" after a try is a retry to come.
OUTCOME_NAMES = {"delivered": "delivered", "pending": "retry", "failed": "failed", "dead": "dead"}

# No `…_created` series beside every counter and histogram: twice the series for a timestamp nobody alerts on.
disable_created_metrics()

BUILD = Info("fangxun_build", "The running fangxun")
BUILD.info({"version": fangxun.__version__})
SEND_SECONDS = Histogram("fangxun_notification_send_seconds", "Time a channel took to send one message",
                         ["channel"], buckets=SEND_BUCKETS)
OUTCOMES = Counter("fangxun_notification_outcomes", "Send attempts by channel and outcome "
                   "(delivered, retry: failed and tried again later, failed: refused for good, dead: out of tries)",
                   ["channel", "outcome"])
ACKS = Counter("fangxun_acks", "Notifications acknowledged (叫应), by way: link, voice, sms, other", ["way"])
REMINDERS = Counter("fangxun_reminders", "Reminders queued for unanswered notifications (redials included)")
ESCALATIONS = Counter("fangxun_escalations", "Escalations queued (逐级上报)")
FEED_POLLS = Counter("fangxun_feed_polls", "Polls of each CAP feed: ok (listing read) or error", ["feed", "result"])
FEED_LAST_SUCCESS = Gauge("fangxun_feed_last_success_timestamp_seconds",
                          "When each feed was last read successfully (Unix time)", ["feed"])
SCHEDULER_RUNNING = Gauge("fangxun_scheduler_running", "1 while this process runs the scheduled jobs")


# The labelled series of each channel, found once (a fan-out observes ten thousand sends).
_send_series: dict[str, Histogram] = {}
_outcome_series: dict[tuple[str, str], Counter] = {}


def sent(channel: str, seconds: float) -> None:
    """A message handed to `channel` came back after `seconds`."""
    series = _send_series.get(channel)
    if series is None:
        series = _send_series[channel] = SEND_SECONDS.labels(channel)
    series.observe(seconds)


def outcome(channel: str, status: str) -> None:
    """One attempt on `channel` became `status` in the outbox."""
    series = _outcome_series.get((channel, status))
    if series is None:
        series = _outcome_series[channel, status] = OUTCOMES.labels(channel, OUTCOME_NAMES.get(status, status))
    series.inc()


def acknowledged(via: str, count: int) -> None:
    """`count` notifications acknowledged by way of `via` (as stored in acked_via)."""
    if count:
        ACKS.labels(ack_way(via)).inc(count)


def followed_up(purpose: str, count: int) -> None:
    """`count` reminders or escalations queued."""
    if count:
        (REMINDERS if purpose == "reminder" else ESCALATIONS).inc(count)


def feed_polled(feed: str, ok: bool, at: datetime) -> None:
    """One poll of `feed` at `at`: ok when its listing (or directory) was read."""
    FEED_POLLS.labels(feed, "ok" if ok else "error").inc()
    if ok:
        FEED_LAST_SUCCESS.labels(feed).set(at.timestamp())
