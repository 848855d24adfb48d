"""Absences benchmark: what stand-ins cost the fan-out of a city-wide red warning (~10,000 persons of the demo).

On one database with the demo registry, times warnings.intake.fanout.fan_out (after placing) for the whole city with no absence
in force, then with --absences (default 1000) of the city's 责任人 away (their unit's 副责任人 stand in), the two
alternated --runs times (7) so both meet the same load; prints each median, and how many recipients stand in.
The absences cost one query per warning and one pass over the persons.
Run: .venv/bin/python tests/bench/bench_absences.py [sqlite|postgresql] [--runs N] [--absences N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_fanout
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from bench_fanout import add_absences, bench_settings  # noqa: E402
from sqlalchemy import update  # noqa: E402
from support.databases import migrated_engine  # noqa: E402
from support.warning_factories import make_warning  # noqa: E402

from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.plans.models import ContactAbsence  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.intake.fanout import fan_out  # noqa: E402
from fangxun.warnings.intake.placing import place  # noqa: E402


async def bench(backend: str, runs: int, absences: int) -> None:
    settings, clock = load_settings(), Clock()
    config = bench_settings(settings, "http://127.0.0.1:9/hook", 64).warnings
    now = clock.now()
    warning = make_warning(geocodes=("410100",), sent=now - timedelta(minutes=5), expires=now + timedelta(hours=6))
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_engine(backend, Path(tmp)) as engine:
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                await load_demo(session, settings, clock.today())
                away = await add_absences(session, absences, now)
            times: dict[bool, list[float]] = {False: [], True: []}
            standing = 0
            for _ in range(runs):
                for with_absences in (False, True):
                    async with sessions() as session, session.begin():
                        # Without: the absences moved to the past; with: back in force.
                        start = now - timedelta(hours=1) if with_absences else now - timedelta(days=3)
                        await session.execute(update(ContactAbsence).values(
                            starts_at=start, ends_at=start + timedelta(days=1, hours=1 if with_absences else 0)))
                    async with sessions() as session:
                        began = time.perf_counter()
                        placed = await place(session, warning)
                        fan = await fan_out(session, warning, config, placed, placed.jurisdiction, now=now)
                        times[with_absences].append(time.perf_counter() - began)
                    if with_absences:
                        standing = sum(1 for r in fan.recipients if "（代 " in r.name)
                    else:
                        assert not any("（代 " in r.name for r in fan.recipients)
    plain, stood = statistics.median(times[False]), statistics.median(times[True])
    print(f"[{backend}] fan_out of a city-wide red warning, {len(fan.recipients)} recipients; median of {runs}: "
          f"no absence {plain * 1000:.0f} ms, {away} 责任人 away ({standing} stand-in recipients) "
          f"{stood * 1000:.0f} ms ({(stood - plain) * 1000:+.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--absences", type=int, default=1000)
    args = parser.parse_args()
    for backend in args.backends:
        asyncio.run(bench(backend, args.runs, args.absences))


if __name__ == "__main__":
    main()
