"""First call first: POST /api/warnings → the first delivery at a local sink, and the 201, for a red rainstorm warning
over the whole demo city and (on PostgreSQL, with the 河北 list of ../shared/data and generated plans) over the whole
province.

The service runs as `fangxun serve` runs it (the dispatcher and the expansion runner in the web process); the sink
(a real aiohttp server) runs in its own process and notes the wall time of the first request of each warning. Each
run starts a new service over the same database: the rows of the run before are cancelled first, so every run
meets an empty outbox. Prints the p50 of each figure over the runs beside the issue's target, with the load average.
There is no switch back to the old one-transaction path: only the new figures are printed (the issue measured
599–939 ms city-wide, 9.4 s province-wide and a 9.3 s 201 on main).
Run: .venv/bin/python tests/bench/bench_first_call.py [--city-backends postgresql sqlite] [--runs 5]
     [--province-runs 3] [--no-province]   (FANGXUN_SHARED_DATA=/work/shared/data for the province)
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
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/bench

from bench_fanout import bench_settings  # noqa: E402
from scale_data import plan_rows, province_units, write_csv  # noqa: E402
from sqlalchemy import text  # noqa: E402
from support.databases import empty_database_url, migrated_engine  # noqa: E402
from support.shared_data import shared_data_file  # noqa: E402

from fangxun.api.app import create_app  # noqa: E402
from fangxun.core.accounts import create_token  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import create_engine, session_factory  # noqa: E402
from fangxun.core.runtime import tune_for_service  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.tables import WarningExpansion  # noqa: E402

HEBEI = "130000000000"
ZHENGZHOU = "410100000000"
COMMAND = [str(Path(sys.executable).with_name("fangxun"))]
WATCHDOG = 300.0  # seconds: far beyond any target, only so that a hang fails


# --- the sink process -------------------------------------------------------------------------

def serve_sink() -> None:
    """Answers 200 to every post; /first?prefix= gives the wall time of the first request whose idempotency key
    starts with the prefix (null before), and how many such requests came."""
    first: dict[str, float] = {}
    counts: dict[str, int] = {}

    async def hook(request: web.Request) -> web.Response:
        at = time.time()
        await request.read()
        key = request.headers.get("Idempotency-Key", "")
        prefix = "-".join(key.split("-")[:2]) + "-"  # fx-<warning id>-
        first.setdefault(prefix, at)
        counts[prefix] = counts.get(prefix, 0) + 1
        return web.Response(text="ok")

    async def reset(_request: web.Request) -> web.Response:
        first.clear()  # each database numbers its warnings from 1: a run starts from nothing seen
        counts.clear()
        return web.Response(text="ok")

    async def stats(request: web.Request) -> web.Response:
        prefix = request.query["prefix"]
        return web.json_response({"first": first.get(prefix), "count": counts.get(prefix, 0)})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook", hook)
        app.router.add_get("/first", stats)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- one run ----------------------------------------------------------------------------------

def form(code: str, name: str, now, number: int) -> dict:
    """The hand-entry form of a red rainstorm warning over the whole of unit `code`."""
    return {"event": "暴雨", "colour": "红", "areas": {"unit_codes": [code], "description": f"{name}全境"},
            "headline": f"{name}暴雨红色预警（第 {number + 1} 次）",
            "onset": now.isoformat(), "expires": (now + timedelta(hours=6)).isoformat(),
            "description": "过去3小时大部地区降雨量已达100毫米以上，且降雨将持续。", "instruction": "请立即启动防汛应急响应。"}


async def quiet_outbox(engine) -> None:
    """Cancel what earlier runs left unsent and stop their expansions (the next run meets an empty outbox)."""
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE notifications SET status = 'cancelled', lease_until = NULL, "
                                      "claimed_by = NULL WHERE status IN ('pending', 'sending')"))
        await connection.execute(text("UPDATE warning_expansions SET finished_at = CURRENT_TIMESTAMP, "
                                      "stopped = 'bench' WHERE finished_at IS NULL"))
        await connection.execute(text("UPDATE warnings SET status = 'expired' WHERE status = 'active'"))


async def expansion_done(sessions, warning_id: int, since: float) -> tuple[float, int]:
    """Seconds from `since` until the warning's notifications are all written, and how many."""
    while time.perf_counter() - since < WATCHDOG:
        async with sessions() as session:
            row = await session.get(WarningExpansion, warning_id)
            if row is None or row.finished_at is not None:
                return time.perf_counter() - since, row.written if row is not None else 0
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the expansion of warning {warning_id} did not finish within {WATCHDOG} s")


async def one_run(engine, config, token: str, sink: str, code: str, name: str, number: int) -> dict:
    """Start the service, POST the warning, wait for its first delivery and for its expansion; stop the service."""
    await quiet_outbox(engine)
    clock = Clock()
    app = create_app(engine, config, clock, dispatch=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    api = f"http://127.0.0.1:{runner.addresses[0][1]}/api/warnings"
    try:
        async with aiohttp.ClientSession() as http:
            await asyncio.sleep(0.5)  # the service's start-up work (its first pick-up, the scheduler) is over
            await http.post(f"{sink}/reset")
            wall, start = time.time(), time.perf_counter()
            async with http.post(api, json=form(code, name, clock.now(), number),
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                result = await response.json()
                assert response.status == 201, result
            answered = time.perf_counter() - start
            prefix = f"fx-{result['warning_id']}-"
            while True:
                async with http.get(f"{sink}/first", params={"prefix": prefix}) as response:
                    seen = await response.json()
                if seen["first"] is not None:
                    break
                if time.perf_counter() - start > WATCHDOG:
                    raise RuntimeError("no delivery")
                # The sink notes the time itself: polling it more often only takes the loop the service shares.
                await asyncio.sleep(0.025)
            written_after, written = await expansion_done(session_factory(engine), result["warning_id"], start)
    finally:
        await runner.cleanup()
    return {"first": seen["first"] - wall, "answered": answered, "written_after": written_after, "written": written,
            "state_at_201": result["expansion"]["state"], "written_at_201": result["notifications_written"]}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f})"


def report(label: str, runs: list[dict], first_target: float, answer_target: float | None) -> None:
    """The p50 of each figure over the runs, beside its target."""
    first = statistics.median(r["first"] for r in runs) * 1000
    answered = statistics.median(r["answered"] for r in runs) * 1000
    written_after = statistics.median(r["written_after"] for r in runs)
    print(f"[{label}] runs: " + "; ".join(
        f"first {r['first'] * 1000:.0f} ms, 201 {r['answered'] * 1000:.0f} ms ({r['state_at_201']}, "
        f"{r['written_at_201']} written), all {r['written']} written {r['written_after']:.2f} s" for r in runs),
        flush=True)
    print(f"[{label}] POST → first delivery p50 {first:.0f} ms (target < {first_target * 1000:.0f} ms); "
          f"201 p50 {answered:.0f} ms" + (f" (target < {answer_target * 1000:.0f} ms)" if answer_target else "") +
          f"; all {runs[0]['written']} notifications written p50 {written_after:.2f} s after the POST; {load()}",
          flush=True)


# --- the city and the province ----------------------------------------------------------------

async def city(backend: str, runs: int, sink: str) -> None:
    settings = load_settings()
    config = bench_settings(settings, f"{sink}/hook", 64)
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_engine(backend, Path(tmp)) as engine:
            async with session_factory(engine)() as session, session.begin():
                await load_demo(session, settings, Clock().today())
                token = await create_token(session, "editor", label="bench")
            results = [await one_run(engine, config, token, sink, ZHENGZHOU, "郑州市", n) for n in range(runs)]
    report(f"{backend}, city-wide (demo 郑州市)", results, 0.2, None)


def fangxun(url: str, *args: str) -> None:
    """One `fangxun` command to its end; a failure stops the bench."""
    done = subprocess.run([*COMMAND, "--database-url", url, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"fangxun {' '.join(args)} failed: {done.stderr.decode()[-2000:]}")


async def province(runs: int, sink: str) -> None:
    settings = load_settings()
    config = bench_settings(settings, f"{sink}/hook", 64)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        units = province_units()
        plans = write_csv(folder / "plans.csv", plan_rows(units))
        async with empty_database_url("postgresql", folder, "firstcall") as url:
            started = time.perf_counter()
            fangxun(url, "db", "upgrade")
            fangxun(url, "units", "import", str(shared_data_file("divisions", "hebei_nbs_2023_codes.csv")))
            fangxun(url, "plans", "import", str(plans))
            print(f"[postgresql, province] {len(units)} units and their plans loaded in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
            engine = create_engine(url)
            try:
                async with session_factory(engine)() as session, session.begin():
                    token = await create_token(session, "editor", label="bench")
                    persons = (await session.execute(text("SELECT count(*) FROM contacts"))).scalar()
                print(f"[postgresql, province] {persons} persons on record", flush=True)
                results = [await one_run(engine, config, token, sink, HEBEI, "河北省", n) for n in range(runs)]
            finally:
                await engine.dispose()
    report("postgresql, province-wide (河北)", results, 0.3, 1.0)


def main(argv: list[str] | None = None) -> None:
    """The bench (callable from bench_scale.py with its own arguments)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--city-backends", nargs="*", default=["postgresql"])
    parser.add_argument("--runs", type=int, default=5, help="city-wide runs per database")
    parser.add_argument("--province-runs", type=int, default=3)
    parser.add_argument("--no-province", action="store_true")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sink:
        serve_sink()
        return
    tune_for_service()
    sink = subprocess.Popen([sys.executable, __file__, "--sink"], stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{int(sink.stdout.readline())}"
        print(f"first call first: {load()}", flush=True)
        for backend in args.city_backends:
            asyncio.run(city(backend, args.runs, base))
        if not args.no_province:
            asyncio.run(province(args.province_runs, base))
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
