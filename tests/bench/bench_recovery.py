"""Recovery benchmark: dispatcher processes stopped in the middle of a red warning over a few thousand recipients.

Per database and scenario, prints the recipients, how many had been reached when the dispatcher was stopped,
the time from the restart (or the stop, when another dispatcher runs beside) to the last recipient reached, and
the duplicates (each on record as an interrupted attempt). Scenarios: kill -9 then restart; kill -9 beside a
running dispatcher; SIGTERM beside a running dispatcher. The dispatchers hold their rows under the service's
120 s lease: what is measured is the heartbeat's takeover and the clean stop's give-back.
Run: .venv/bin/python tests/bench/bench_recovery.py [sqlite|postgresql] [--townships N] [--concurrency N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from sqlalchemy import func, select  # noqa: E402
from support import dispatch_runs  # noqa: E402
from support.databases import migrated_engine  # noqa: E402
from support.sinks import Answer, Sink  # noqa: E402
from support.warning_factories import HookKeys, add_wide_registry, make_warning, warning_settings  # noqa: E402

from fangxun.core.db import session_factory  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.delivery.outbox import INTERRUPTED  # noqa: E402
from fangxun.warnings.intake.accept import ingest  # noqa: E402
from fangxun.warnings.tables import NotificationAttempt  # noqa: E402

LEASE_SECONDS = 120.0
SCENARIOS = ("kill -9, restart", "kill -9 beside another", "SIGTERM beside another")


async def scenario(backend: str, name: str, townships: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with migrated_engine(backend, Path(folder)) as engine, Sink(Answer(200, delay=0.02)) as sink:
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                await add_wide_registry(session, townships=townships, villages_per_township=150)
            now = datetime.now(timezone.utc)
            hook = sink.url_for("/hook")
            result = await ingest(sessions, make_warning(sent=now - timedelta(minutes=1),
                                                         expires=now + timedelta(hours=6)),
                                  warning_settings(load_settings(), hook), now)
            total = result.notifications

            async def start(worker: str):
                return await dispatch_runs.spawn(engine, hook, worker, LEASE_SECONDS, concurrency)

            beside = name != SCENARIOS[0]
            first, *others = await asyncio.gather(*(start(worker) for worker in ("first", "second")[:1 + beside]))
            while len(sink.requests) < total // 3:
                await asyncio.sleep(0.01)
            if name.startswith("SIGTERM"):
                await dispatch_runs.stop(first)
            else:
                await dispatch_runs.kill(first)
            reached = len(HookKeys.of(sink).counts)
            since = asyncio.get_running_loop().time()
            if not beside:
                others = [await start("second")]
            while await dispatch_runs.delivered(sessions) < total:
                assert asyncio.get_running_loop().time() - since < 300, "not delivered within 5 minutes"
                await asyncio.sleep(0.05)
            took = dispatch_runs.last_reached(sink) - since
            for other in others:
                await dispatch_runs.stop(other)
            counts = HookKeys.of(sink).counts
            async with sessions() as session:
                interrupted = (await session.execute(select(func.count()).select_from(NotificationAttempt)
                                                     .where(NotificationAttempt.detail == INTERRUPTED))).scalar_one()
    duplicates = sum(count - 1 for count in counts.values())
    since_what = "restart" if not beside else ("stop" if name.startswith("SIGTERM") else "kill")
    print(f"[{backend}] {name}: {total} recipients, {reached} reached before; last recipient reached {took:.1f} s "
          f"after the {since_what}; {duplicates} duplicates, {interrupted} interrupted attempts on record "
          f"(bound {2 * concurrency}); {len(counts)} of {total} reached", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--townships", type=int, default=20, help="150 villages each, one 责任人 a village")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    for backend in args.backends:
        for name in SCENARIOS:
            asyncio.run(scenario(backend, name, args.townships, args.concurrency))


if __name__ == "__main__":
    main()
