"""Province-scale benchmark: the 河北 list (56,712 real units, ../shared/data) with two generated plans per unit
(113,424 plans with 226,848 persons), through the `fangxun` command as an operator runs it.

Prints each figure beside the issue's target: units import; plans import from CSV and from XLSX (time and peak
memory of the command); XLSX export (time, peak memory); `fangxun stats --json --root 130000000000` (the command's
wall time, median of 3, and the registry_stats call alone). The generated files are written to a temporary folder
and deleted; nothing generated is kept. Nothing is asserted.
Then, each in its own process, the other province-scale benches of issue 18 (each prints its figures beside their
targets and its baselines): the paged map (bench_map_scale.py), first call first (bench_first_call.py), delivery by
`fangxun dispatch` processes against a bare aiohttp loop (bench_delivery_scale.py), a reminder wave against a new
warning (bench_waves.py), area matching against geopandas.sjoin (bench_geo_scale.py).
Run: FANGXUN_SHARED_DATA=/work/shared/data .venv/bin/python tests/bench/bench_scale.py [postgresql|sqlite]
     [--parts files map first delivery waves geo]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support and tests/bench
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_data import plan_rows, province_units, write_csv, write_xlsx  # noqa: E402
from sqlalchemy import text  # noqa: E402
from support.databases import empty_database_url  # noqa: E402
from support.shared_data import shared_data_file  # noqa: E402

from fangxun.core.db import create_engine, session_factory  # noqa: E402
from fangxun.plans.stats import registry_stats  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402

HEBEI = "130000000000"
COMMAND = [str(Path(sys.executable).with_name("fangxun"))]


def run(url: str, *args: str) -> tuple[float, float]:
    """One `fangxun` command to its end: (seconds, peak resident memory in MB); a failure stops the bench."""
    start = time.perf_counter()
    process = subprocess.Popen([*COMMAND, "--database-url", url, *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"fangxun {' '.join(args)} failed: {process.stderr.read().decode()[-2000:]}")
    process.returncode = 0
    return elapsed, usage.ru_maxrss / 1024


async def clear_plans(url: str) -> None:
    """Delete every plan and person (the next import starts from none, as on a new registry: vacuumed)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in ("contact_absences", "contacts", "plan_revisions", "shelters", "plans"):
                await connection.execute(text(f"DELETE FROM {table}"))
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("VACUUM ANALYZE contact_absences, contacts, plan_revisions, plans"))
    finally:
        await engine.dispose()


async def stats_call(url: str) -> float:
    """registry_stats of the province in-process (median of 3), without the command's start-up."""
    engine = create_engine(url)
    settings, times = load_settings(), []
    try:
        for _ in range(3):
            async with session_factory(engine)() as session:
                start = time.perf_counter()
                await registry_stats(session, settings.registry, date.today(), HEBEI)
                times.append(time.perf_counter() - start)
    finally:
        await engine.dispose()
    return statistics.median(times)


def line(what: str, seconds: float, target: str, memory: float | None = None, memory_target: str = "") -> None:
    peak = f", peak {memory:.0f} MB (target {memory_target})" if memory is not None else ""
    print(f"{what}: {seconds:.2f} s (target {target}){peak}", flush=True)


async def main(dialect: str) -> None:
    units = province_units()
    rows = plan_rows(units)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_file, xlsx_file = write_csv(folder / "plans.csv", rows), write_xlsx(folder / "plans.xlsx", rows)
        print(f"[{dialect}] {len(units)} units, {len(rows)} plans "
              f"(CSV {csv_file.stat().st_size >> 20} MB, XLSX {xlsx_file.stat().st_size >> 20} MB); "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        async with empty_database_url(dialect, folder, "scale") as url:
            run(url, "db", "upgrade")
            seconds, memory = run(url, "units", "import", str(shared_data_file("divisions", "hebei_nbs_2023_codes.csv")))
            line("units import (56,712)", seconds, "-", memory, "-")
            seconds, memory = run(url, "plans", "import", str(csv_file))
            line("plans import, CSV", seconds, "< 15 s", memory, "< 400 MB")
            await clear_plans(url)
            seconds, memory = run(url, "plans", "import", str(xlsx_file))
            line("plans import, XLSX", seconds, "< 15 s", memory, "< 400 MB")
            seconds, memory = run(url, "plans", "import", str(csv_file))
            line("plans import again, CSV, nothing changed", seconds, "-", memory, "-")
            seconds, memory = run(url, "plans", "export", str(folder / "out.xlsx"))
            line("plans export, XLSX", seconds, "< 15 s", memory, "< 300 MB")
            seconds, memory = run(url, "plans", "export", str(folder / "out.csv"))
            line("plans export, CSV", seconds, "-", memory, "-")
            commands = [run(url, "stats", "--json", "--root", HEBEI)[0] for _ in range(3)]
            line("fangxun stats --json --root 130000000000, median of 3", statistics.median(commands), "< 1 s")
            line("  of which registry_stats alone, median of 3", await stats_call(url), "-")


# The other parts: (title, bench file, its arguments).
PARTS = {
    "map": ("item 3, the paged map", "bench_map_scale.py", []),
    "first": ("item 4, first call first", "bench_first_call.py", []),
    "delivery": ("item 5, delivery by several dispatch processes", "bench_delivery_scale.py", []),
    "waves": ("item 6, a reminder wave and a new warning", "bench_waves.py", ["postgresql"]),
    "geo": ("item 7, area matching against sjoin", "bench_geo_scale.py", []),
}


def machine_speed() -> str:
    """This machine's pace in one line, to compare figures across machines: a pure-Python loop of 10^7 additions
    (best of 3) and the cores."""
    best = float("inf")
    for _ in range(3):
        start, total = time.perf_counter(), 0
        for number in range(10_000_000):
            total += number
        best = min(best, time.perf_counter() - start)
    return f"this machine: 10^7 Python additions in {best:.2f} s (best of 3), {os.cpu_count()} cores"


def run_part(name: str) -> None:
    """One of the other benches in its own process, its lines printed as they come."""
    title, script, arguments = PARTS[name]
    print(f"\n## {title} ({script}); load average {os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    status = subprocess.call([sys.executable, str(Path(__file__).with_name(script)), *arguments])
    print(f"({script} {'ended' if status == 0 else f'failed with status {status}'} after "
          f"{time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dialect", nargs="?", default="postgresql")
    parser.add_argument("--parts", nargs="+", default=["files", *PARTS], choices=["files", *PARTS])
    chosen = parser.parse_args()
    print(machine_speed(), flush=True)
    if "files" in chosen.parts:
        print("## items 1 and 2, the province's files and stats", flush=True)
        asyncio.run(main(chosen.dialect))
    for part in chosen.parts:
        if part != "files":
            run_part(part)
