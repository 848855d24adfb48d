"""Registry benchmark on the demo registry, on SQLite and PostgreSQL.

Prints: loading 6,897 plans from an XLSX export (target < 5 s), city-wide coverage (target
< 200 ms), one page of plans filtered by district and status (target < 20 ms median) and the
peak memory of the process. Run: .venv/bin/python tests/bench/bench_registry.py [sqlite|postgresql]
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from support.databases import migrated_engine  # noqa: E402

from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.plans.coverage import coverage  # noqa: E402
from fangxun.plans.plan_export import export_plan_file, export_unit_file  # noqa: E402
from fangxun.plans.plan_import import import_plan_file  # noqa: E402
from fangxun.plans.plan_queries import PlanFilter, list_plans  # noqa: E402
from fangxun.plans.unit_import import import_unit_file  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402

DISTRICT = "410105000000"  # 金水区


async def timed(coroutine_factory, repeat: int) -> list[float]:
    """Wall-clock seconds of each of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await coroutine_factory()
        times.append(time.perf_counter() - start)
    return times


async def bench(backend: str) -> None:
    settings, today = load_settings(), Clock().today()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        plans_xlsx, units_csv = workdir / "plans.xlsx", workdir / "units.csv"
        async with migrated_engine(backend, workdir) as source:
            sessions = session_factory(source)
            async with sessions() as session, session.begin():
                await load_demo(session, settings, today)
            async with sessions() as session:
                exported = await export_plan_file(session, plans_xlsx, settings.registry, today)
                await export_unit_file(session, units_csv)

        async with migrated_engine(backend, workdir) as target:
            sessions = session_factory(target)
            async with sessions() as session, session.begin():
                await import_unit_file(session, units_csv, actor="bench")
            start = time.perf_counter()
            async with sessions() as session, session.begin():
                result = await import_plan_file(session, plans_xlsx, settings.registry, actor="bench")
            load_seconds = time.perf_counter() - start

            async def city_coverage():
                async with sessions() as session:
                    return await coverage(session, None, settings.registry, today)

            wanted = PlanFilter(root=DISTRICT, status="current", per_page=50)

            async def one_page():
                async with sessions() as session:
                    return await list_plans(session, wanted, settings.registry, today)

            await city_coverage()
            cover_times = await timed(city_coverage, 10)
            page = await one_page()
            page_times = await timed(one_page, 50)

    print(f"[{backend}] load {exported} plans from XLSX export: {load_seconds:.2f} s "
          f"({result}) target < 5 s")
    print(f"[{backend}] city-wide coverage: median {statistics.median(cover_times) * 1000:.1f} ms, "
          f"max {max(cover_times) * 1000:.1f} ms (target < 200 ms)")
    print(f"[{backend}] plans page (金水区, current, 50 of {page['total']}): median "
          f"{statistics.median(page_times) * 1000:.2f} ms, p90 "
          f"{statistics.quantiles(page_times, n=10)[-1] * 1000:.2f} ms (target < 20 ms median)")


def main() -> None:
    backends = sys.argv[1:] or ["sqlite", "postgresql"]
    for backend in backends:
        asyncio.run(bench(backend))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the process (max RSS): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
