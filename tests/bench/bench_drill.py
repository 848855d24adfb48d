"""Drill benchmark: a 叫应 drill over the whole demo city (every district, township and village 责任人 and 副责任人
of the demo registry and every desk, ~10,000 people), started and its report produced.

Prints, per database: the people and messages of the drill, the time to start it (every message written to the
outbox), the time the dispatcher takes to deliver them all to a local webhook sink (for scale; not part of the
check), then — answers recorded for 60% of them over the drill's half hour, one in fifty failed — the time to build
the report (per district and per person) and its XLSX. The check: start + report under 10 s.
Medians of --runs (3), each run on a new database.
Run: .venv/bin/python tests/bench/bench_drill.py [sqlite|postgresql] [--runs N] [--no-dispatch]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_fanout
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from bench_fanout import bench_settings  # noqa: E402
from sqlalchemy import bindparam, select, update  # noqa: E402
from support.databases import migrated_engine  # noqa: E402
from support.sinks import Sink  # noqa: E402
from support.warning_factories import NOON  # noqa: E402

from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session  # noqa: E402
from fangxun.warnings.delivery.dispatcher import Dispatcher  # noqa: E402
from fangxun.warnings.drills.report import drill_report  # noqa: E402
from fangxun.warnings.drills.report_xlsx import report_xlsx  # noqa: E402
from fangxun.warnings.drills.start import drill_options, run_drill  # noqa: E402
from fangxun.warnings.tables import Notification  # noqa: E402

CITY = "410100000000"
N = Notification.__table__


async def _answers(sessions, drill_id: int, started) -> None:
    """60% answer within the half hour (a spread of times), one in fifty failed; the rest never answer."""
    rng = random.Random(7)
    async with sessions() as session, session.begin():
        rows = (await session.execute(select(N.c.id).where(N.c.drill_id == drill_id, N.c.status != "failed")
                                      .order_by(N.c.id))).scalars().all()
        answered, failed = [], []
        for row_id in rows:
            draw = rng.random()
            if draw < 0.6:
                answered.append({"b_id": row_id, "b_at": started + timedelta(seconds=rng.randint(20, 2400))})
            elif draw < 0.62:
                failed.append(row_id)
        await session.execute(update(N).where(N.c.id == bindparam("b_id")).values(acked_at=bindparam("b_at"),
                                                                                  acked_via="page"), answered)
        await session.execute(update(N).where(N.c.id.in_(failed)).values(status="dead", delivered_at=None))


async def one_run(backend: str, folder: Path, dispatch: bool) -> dict:
    async with Sink() as sink, migrated_engine(backend, folder) as engine:
        settings = bench_settings(load_settings(), sink.url_for("/hook"), concurrency=64)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            await load_demo(session, settings, NOON.date())
        options = drill_options(settings, CITY, deadline="30m")
        began = time.perf_counter()
        started = await run_drill(sessions, settings, options, NOON, started_by="bench")
        start_seconds = time.perf_counter() - began
        sent_seconds = None
        if dispatch:
            clock = Clock(fixed=NOON)
            async with new_http_session(settings.warnings.channels) as http:
                dispatcher = Dispatcher(sessions, build_channels(settings.warnings.channels, http), settings, clock,
                                        "bench", rng=random.Random(1))
                began = time.perf_counter()
                await dispatcher.run_until_idle()
                sent_seconds = time.perf_counter() - began
        await _answers(sessions, started.drill.id, NOON)
        began = time.perf_counter()
        async with sessions() as session:
            report = await drill_report(session, started.drill.id, NOON + timedelta(hours=1))
        report_seconds = time.perf_counter() - began
        began = time.perf_counter()
        workbook = report_xlsx(report, settings.registry.timezone)
        xlsx_seconds = time.perf_counter() - began
        return {"told": started.told, "messages": started.notifications, "no_contact": started.no_contact,
                "districts": len(report["districts"]), "persons": len(report["persons"]),
                "unreachable": report["totals"]["unreachable"], "answered": report["totals"]["answered"],
                "start": start_seconds, "sent": sent_seconds, "report": report_seconds, "xlsx": xlsx_seconds,
                "xlsx_bytes": len(workbook), "delivered": len(sink.requests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-dispatch", action="store_true", help="leave out sending to the sink")
    args = parser.parse_args()
    for backend in args.backends:
        runs = []
        for number in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                run = asyncio.run(one_run(backend, Path(folder), not args.no_dispatch))
            runs.append(run)
            sent = "-" if run["sent"] is None else f"{run['sent']:.2f} s ({run['delivered']} delivered)"
            print(f"{backend} run {number + 1}: {run['told']} people and desks, {run['messages']} messages "
                  f"({run['no_contact']} without contact), start {run['start']:.2f} s, sent {sent}, "
                  f"report {run['report']:.2f} s ({run['districts']} districts, {run['persons']} persons, "
                  f"{run['answered']} answered in time, {run['unreachable']} unreachable), "
                  f"xlsx {run['xlsx']:.2f} s ({run['xlsx_bytes'] / 1e6:.1f} MB)", flush=True)
        median = {key: statistics.median(run[key] for run in runs) for key in ("start", "report", "xlsx")}
        total = median["start"] + median["report"] + median["xlsx"]
        print(f"{backend} median of {len(runs)}: start {median['start']:.2f} s + report {median['report']:.2f} s + "
              f"xlsx {median['xlsx']:.2f} s = {total:.2f} s (target < 10 s: {'met' if total < 10 else 'NOT met'})",
              flush=True)


if __name__ == "__main__":
    main()
