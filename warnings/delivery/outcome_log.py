"""What became of one send attempt, told to the log and the metrics: a failure is logged with the channel's
detail (which never holds a credential: channels/classify.py masks them), a delivery only counted."""

from __future__ import annotations

import logging
from datetime import datetime

from fangxun.warnings import telemetry
from fangxun.warnings.delivery.outbox import Claimed

log = logging.getLogger("fangxun.warnings.delivery")


def report_outcome(row: Claimed, status: str, detail: str, next_attempt_at: datetime | None) -> None:
    """Count attempt number `row.attempts + 1` of `row`, now `status`; log it unless it was delivered."""
    telemetry.outcome(row.channel, status)
    attempt = row.attempts + 1
    if status == "pending":
        log.info("notification %s: attempt %d on %s failed (%s); tried again at %s", row.id, attempt, row.channel,
                 detail, next_attempt_at.isoformat(timespec="seconds") if next_attempt_at else "-")
    elif status == "failed":
        log.warning("notification %s: refused for good by %s (%s)", row.id, row.channel, detail)
    elif status == "dead":
        log.warning("notification %s: given up after %d attempts on %s (%s)", row.id, attempt, row.channel, detail)
