"""Overview and duty-map benchmark on the demo registry with a city-wide red warning (about 10,000 notices), on
SQLite or PostgreSQL.

Prints: the parts of the overview (warnings in force with counts and who waited longest, open events with the
proposal, gaps, overdue plans, the registry figures, the duty rosters, the review reminders) and the whole page through the application (median of 5),
and the place names the duty map carries (count, bytes). Run:
.venv/bin/python tests/bench/bench_overview.py [sqlite|postgresql]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from support.api_fixtures import PASSWORD  # noqa: E402
from support.databases import migrated_engine  # noqa: E402
from support.warning_factories import make_warning  # noqa: E402

from fangxun.api.app import create_app  # noqa: E402
from fangxun.core.accounts import create_user  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.geo.place_labels import place_labels  # noqa: E402
from fangxun.plans.attention import gap_units, overdue_plans  # noqa: E402
from fangxun.plans.map_data import map_frames  # noqa: E402
from fangxun.plans.stats import registry_stats  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.duty.roster_overview import duty_overview  # noqa: E402
from fangxun.warnings.events.in_progress import open_events  # noqa: E402
from fangxun.warnings.in_force import warnings_in_force  # noqa: E402
from fangxun.warnings.intake.accept import ingest  # noqa: E402
from fangxun.warnings.review_attention import reminders_sent, unremindable_overdue  # noqa: E402

ROWS = 20
REPEAT = 5


async def median_ms(factory) -> float:
    """Median wall-clock milliseconds of REPEAT runs."""
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        await factory()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def bench(backend: str) -> None:
    settings, clock = load_settings(), Clock()
    now, today = clock.now(), clock.today()
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_engine(backend, Path(tmp)) as engine:
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                await load_demo(session, settings, today)
                await create_user(session, "bench", PASSWORD, "viewer")
            warning = make_warning("bench-city", geocodes=("410100",), sent=now - timedelta(minutes=30),
                                   expires=now + timedelta(hours=6), area_description="郑州市全境")
            result = await ingest(sessions, warning, settings, now - timedelta(minutes=30))
            print(f"{backend}: a city-wide red warning, {result.notifications} notices")

            parts = {
                "warnings in force": lambda s: warnings_in_force(s, now, 10),
                "open events and proposal": lambda s: open_events(s, settings, now, 5),
                "gaps (top 20 and total)": lambda s: gap_units(s, settings.registry, ROWS),
                "overdue plans (top 20 and total)": lambda s: overdue_plans(s, settings.registry, today, ROWS),
                "registry figures": lambda s: registry_stats(s, settings.registry, today),
                "duty rosters (now and the week's gaps)": lambda s: duty_overview(s, settings.warnings, now),
                "review reminders sent": lambda s: reminders_sent(s, now),
                "overdue plans nobody can be reminded of": lambda s: unremindable_overdue(s, settings, today, ROWS),
            }
            for name, part in parts.items():
                async def run(part=part):
                    async with sessions() as session:
                        await part(session)
                print(f"  {name}: {await median_ms(run):.0f} ms")

            client = TestClient(TestServer(create_app(engine, settings, clock)))
            await client.start_server()
            try:
                await client.post("/login", data={"username": "bench", "password": PASSWORD, "next": "/"},
                                  allow_redirects=False)

                async def page():
                    response = await client.get("/")
                    assert response.status == 200
                    await response.read()
                print(f"  GET / (whole page): {await median_ms(page):.0f} ms")
            finally:
                await client.close()

            async with sessions() as session:
                units, _ = await map_frames(session, settings.registry, today)
            labels = place_labels(units)
            size = len(json.dumps(labels, ensure_ascii=False).encode())
            print(f"  map place names: {len(labels['places'])} places, {size / 1024:.0f} KiB, "
                  f"from zoom {labels['zooms']}")


if __name__ == "__main__":
    for name in sys.argv[1:] or ["sqlite", "postgresql"]:
        asyncio.run(bench(name))
