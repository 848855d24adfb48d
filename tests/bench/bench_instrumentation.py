"""What the logs and metrics cost each message of a fan-out, measured alone (the fan-out itself is too noisy on a
shared machine to show it): the log context around a send, the latency observation, the outcome count and the
outcome report of a delivered row; and what one JSON log line and one access-line redaction cost.
Run: .venv/bin/python tests/bench/bench_instrumentation.py [--n N]
"""

from __future__ import annotations

import argparse
import io
import logging
import time
from datetime import datetime, timezone

from fangxun.core.log_context import log_context
from fangxun.core.logs import setup_logging
from fangxun.core.redact import redact
from fangxun.warnings import telemetry
from fangxun.warnings.delivery.outbox import Claimed
from fangxun.warnings.delivery.outcome_log import report_outcome


def per_call(label: str, n: int, action) -> float:
    """Microseconds per call of `action(i)` over `n` calls (the best of three rounds); printed."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for i in range(n):
            action(i)
        best = min(best, time.perf_counter() - start)
    micro = best / n * 1e6
    print(f"{label}: {micro:.2f} µs")
    return micro


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    n = parser.parse_args().n
    rows = [Claimed(i, 7, "hook", "13900000001", "甲区区长", {}, f"fx-7-{i}", 0, "notice") for i in range(1000)]
    at = datetime.now(timezone.utc)

    def one_message(i: int) -> None:
        row = rows[i % 1000]
        with log_context(notification_id=row.id, warning_id=row.warning_id, channel=row.channel):
            started = time.perf_counter()
            telemetry.sent(row.channel, time.perf_counter() - started)
            report_outcome(row, "delivered", "HTTP 200", at)

    total = per_call("per delivered message (log context, latency, outcome)", n, one_message)
    print(f"  a city-wide fan-out of 10,300 messages: {total * 10_300 / 1e6 * 1000:.0f} ms of instrumentation")
    setup_logging("json", stream=io.StringIO())
    log = logging.getLogger("fangxun.bench")
    per_call("one JSON log line with its context (a retry)", n // 10,
             lambda i: report_outcome(rows[i % 1000], "pending", "HTTP 503", at))
    per_call("redacting an access line", n // 10,
             lambda i: redact('10.8.0.7 "POST /ack/AbCdEfGhIjKlMnOp HTTP/1.1" 200 2626 14.2ms'))
    log.info("done")


if __name__ == "__main__":
    main()
