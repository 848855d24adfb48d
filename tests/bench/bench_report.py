"""Annual report benchmark on the demo registry plus the demo history year, on SQLite and PostgreSQL.

Prints the time to build the report of the demo year (figures, tables, summary) and to build it in each format
(json, csv, xlsx, html), the median of a few runs each; target < 3 s. Needs the demo history
(fangxun.demo.history.load_history). Run: .venv/bin/python tests/bench/bench_report.py
[sqlite|postgresql] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
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
from fangxun.report.export import FORMATS, render  # noqa: E402
from fangxun.report.figures import build_annual_report  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402

TARGET_SECONDS = 3.0


def history_loader():
    """The demo history's loader, or exit with a clear message when it is not there."""
    try:
        from fangxun.demo.history import load_history
    except ImportError as exc:
        sys.exit(f"bench_report: the demo history is needed (fangxun.demo.history.load_history) "
                 f"and cannot be imported: {exc}")
    return load_history


async def bench(backend: str, runs: int) -> bool:
    load_history = history_loader()
    settings, clock = load_settings(), Clock()
    year = clock.today().year - 1
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_engine(backend, Path(tmp)) as engine:
            sessions = session_factory(engine)
            start = time.perf_counter()
            async with sessions() as session, session.begin():
                await load_demo(session, settings, clock.today())
                summary = await load_history(session, settings, year=year)
            print(f"[{backend}] demo registry and history loaded in {time.perf_counter() - start:.1f} s: {summary}")

            async def build():
                async with sessions() as session:
                    return await build_annual_report(session, settings, year, clock.now())

            report = await build()  # warm-up: connections, statement caches
            times: dict[str, list[float]] = {"build": []} | {name: [] for name in FORMATS}
            sizes: dict[str, int] = {}
            for _ in range(runs):
                began = time.perf_counter()
                report = await build()
                built = time.perf_counter()
                times["build"].append(built - began)
                for name in FORMATS:
                    began = time.perf_counter()
                    rendered = render(await build(), name)
                    times[name].append(time.perf_counter() - began)
                    sizes[name] = len(rendered.body)
    figures = report.figures
    print(f"[{backend}] {year}: {figures['events']['total']} events, {figures['warnings']['total']} warnings, "
          f"{figures['notifications']['warnings']['notices']} notices, {figures['decisions']['total']} decisions, "
          f"{figures['plans']['total']} plans")
    print(f"[{backend}] summary: {report.summary}")
    ok = True
    for name, values in times.items():
        median = statistics.median(values)
        ok &= median < TARGET_SECONDS
        label = "figures only" if name == "build" else f"as {name} ({sizes[name] / 1024:.0f} KiB)"
        print(f"[{backend}] annual report {label}: median {median * 1000:.0f} ms, max {max(values) * 1000:.0f} ms "
              f"over {len(values)} runs (target < {TARGET_SECONDS:g} s)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backends", nargs="*", metavar="sqlite|postgresql")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    args.backends = args.backends or ["sqlite", "postgresql"]
    if set(args.backends) - {"sqlite", "postgresql"}:
        parser.error("backends: sqlite or postgresql")
    history_loader()  # fail before any work when the history is missing
    results = [asyncio.run(bench(backend, args.runs)) for backend in args.backends]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
