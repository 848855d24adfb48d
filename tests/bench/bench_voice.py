"""Voice benchmark: call requests through the voice channel, and call results taken by the callback route.

Per database: 1,000 责任人 of a red warning are called through the voice channel (the dispatcher, the call
ledger, a signed request each) against the simulated gateway (tests/support/voice_gateway.py), at the
channel's configured rate (default 10 calls/s; --rate to change it) and once more unthrottled (the headroom
above that rate). Then the gateway's 1,000 signed results (a mix: key 1, no key, hung up early, no answer,
busy) are posted to POST /api/callbacks/voice/{channel} of the web application by a separate sender process,
as a gateway would, 16, 32 and 64 at a time (--concurrency), each pass recording them anew (target >= 1,000
callbacks/s on SQLite); then the same bodies again (every one a repeat); and in the same run the same sender
posts the same bodies to a bare aiohttp handler that only reads them, for the ratio. The server's CPU seconds
are printed beside each figure: the machine may be shared, and CPU shows what one free core would take.
Run: .venv/bin/python tests/bench/bench_voice.py [sqlite|postgresql] [--calls N] [--rate R] [--concurrency N …]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from sqlalchemy import func, select, update  # noqa: E402
from support.databases import migrated_engine  # noqa: E402
from support.sinks import Sink  # noqa: E402
from support.voice_gateway import (ANSWERS_KEY_1, ANSWERS_NO_KEY, BUSY, HANGS_UP_EARLY, NO_ANSWER, SECRET,  # noqa: E402
                                   SECRET_ENV, VoiceGateway, voice_settings)
from support.warning_factories import add_wide_registry, make_warning  # noqa: E402

from fangxun.api.app import create_app  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.core.runtime import tune_for_service  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session  # noqa: E402
from fangxun.warnings.delivery.channels.signing import body_signature  # noqa: E402
from fangxun.warnings.delivery.dispatcher import Dispatcher  # noqa: E402
from fangxun.warnings.intake.accept import ingest  # noqa: E402
from fangxun.warnings.tables import CallAttempt, Notification  # noqa: E402

# What the called people do, in proportion.
MIX = [ANSWERS_KEY_1] * 14 + [ANSWERS_NO_KEY] * 2 + [HANGS_UP_EARLY, NO_ANSWER, NO_ANSWER, BUSY]


# --- the sender process (the gateway's side of the callbacks) ----------------------------------

def send(path: str, url: str, concurrency: int) -> None:
    """POST every signed body of the file at `path` to `url`, `concurrency` at a time; print seconds and the
    count of each status."""
    bodies = [bytes.fromhex(line) for line in Path(path).read_text().split()]

    async def main() -> None:
        statuses: dict[int, int] = {}
        queue = iter(bodies)
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            async def worker() -> None:
                for body in queue:
                    headers = {"Content-Type": "application/json",
                               "X-Fangxun-Signature": body_signature(SECRET, body)}
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1

            async with http.post(url, data=b"{}") as response:  # connect once before the clock starts
                await response.read()
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            print(json.dumps({"seconds": time.perf_counter() - start, "statuses": statuses}), flush=True)

    asyncio.run(main())


async def posted(path: Path, url: str, concurrency: int) -> tuple[float, dict]:
    """Run the sender process against `url`; (seconds, {status: count})."""
    child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--send", str(path), url, str(concurrency),
                                                 stdout=asyncio.subprocess.PIPE)
    out, _ = await child.communicate()
    result = json.loads(out)
    return result["seconds"], {int(k): v for k, v in result["statuses"].items()}


# --- the benchmark ----------------------------------------------------------------------------

async def bare_server() -> tuple[web.AppRunner, str]:
    """A handler that reads the body and answers 200 with a small JSON object."""
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/callbacks/voice/voice", handle)
    return await serve(app)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/api/callbacks/voice/voice"


def tree_for(people: int) -> tuple[int, int]:
    """(townships, villages per township) of a district whose 责任人 number `people` (or a few fewer)."""
    below = people - 1  # the district's own
    townships = min((t for t in range(1, 200) if below % t == 0 and below // t >= 2),
                    key=lambda t: abs(t * t - below), default=20)
    return townships, max(1, below // townships - 1)


async def call_everyone(backend: str, calls: int, rate: float | None, keep: Path | None) -> dict:
    """A new database with `calls` 责任人 called at `rate` (None: unthrottled); the seconds from the first call
    request to the last, and (with `keep`) the gateway's result bodies written there."""
    settings, clock = load_settings(), Clock()
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_engine(backend, Path(tmp)) as engine, Sink() as hook, \
                VoiceGateway(hold=True) as gateway:
            sessions = session_factory(engine)
            config = voice_settings(settings, hook.url_for("/hook"), gateway.url, rate_per_second=rate,
                                    concurrency=10)
            townships, villages = tree_for(calls)
            async with sessions() as session, session.begin():
                people = await add_wide_registry(session, townships=townships, villages_per_township=villages)
            now = clock.now()
            await ingest(sessions, make_warning(sent=now - timedelta(minutes=1), expires=now + timedelta(hours=6)),
                         config, now)
            gateway.callee(*random.Random(1).choices(MIX, k=people))
            async with new_http_session(config.warnings.channels) as http:
                dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock,
                                        "bench", ack_base_url="http://127.0.0.1:9/")
                start = time.perf_counter()
                await dispatcher.run_until_idle()
            seconds = max(r.at for r in gateway.requests) - min(r.at for r in gateway.requests)
            elapsed = time.perf_counter() - start
            async with sessions() as session:
                rows = (await session.execute(select(func.count()).select_from(CallAttempt))).scalar_one()
                delivered = (await session.execute(select(func.count()).select_from(Notification).where(
                    Notification.channel == "voice", Notification.status == "delivered"))).scalar_one()
            assert rows == delivered == len(gateway.placed) == people, (rows, delivered, len(gateway.placed))
            result = {"people": people, "seconds": seconds, "elapsed": elapsed}
            if keep is not None:
                keep.write_text("\n".join(callback.body.hex() for callback in gateway.held.values()))
                result["callbacks"] = await take_callbacks(engine, sessions, config, clock, keep)
    return result


async def take_callbacks(engine, sessions, config, clock, bodies: Path) -> list[dict]:
    """Per sender concurrency: the callbacks through the web application (every call's first result), the same
    again (every one a repeat), and through a bare handler; wall and server CPU seconds of each."""
    figures = []
    await forget_results(engine, sessions)  # a warm-up pass, not reported: statements compiled, pools filled
    runner, url = await serve(create_app(engine, config, clock))
    try:
        await measured(bodies, url, CONCURRENCY[0])
    finally:
        await runner.cleanup()
    for concurrency in CONCURRENCY:
        await forget_results(engine, sessions)
        runner, url = await serve(create_app(engine, config, clock))
        try:
            first, first_cpu = await measured(bodies, url, concurrency)
            again, again_cpu = await measured(bodies, url, concurrency)
        finally:
            await runner.cleanup()
        async with sessions() as session:
            recorded = (await session.execute(select(func.count()).select_from(CallAttempt)
                                              .where(CallAttempt.result_at.is_not(None)))).scalar_one()
            acked = (await session.execute(select(func.count()).select_from(Notification).where(
                Notification.channel == "voice", Notification.acked_via == "voice"))).scalar_one()
        runner, url = await bare_server()
        try:
            bare, bare_cpu = await measured(bodies, url, concurrency)
        finally:
            await runner.cleanup()
        figures.append({"concurrency": concurrency, "first": first, "first_cpu": first_cpu, "again": again,
                        "again_cpu": again_cpu, "bare": bare, "bare_cpu": bare_cpu, "recorded": recorded,
                        "acked": acked})
    return figures


async def measured(bodies: Path, url: str, concurrency: int) -> tuple[float, float]:
    """(wall seconds the sender took, CPU seconds this process, the server, spent meanwhile); all must be 200."""
    cpu = time.process_time()
    seconds, statuses = await posted(bodies, url, concurrency)
    cpu = time.process_time() - cpu
    assert set(statuses) == {200}, statuses
    return seconds, cpu


async def forget_results(engine, sessions) -> None:
    """Every call back to requested and no voice notification acknowledged: the next pass records them anew."""
    async with sessions() as session, session.begin():
        await session.execute(update(CallAttempt).values(status="requested", answered=None, duration_s=None,
                                                         keys="", ended_at=None, result_at=None, callback=None))
        await session.execute(update(Notification).where(Notification.channel == "voice")
                              .values(acked_at=None, acked_via=None, acked_late=False))
    if engine.dialect.name == "sqlite":  # start from a checkpointed WAL, as a running service would
        async with engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


CONCURRENCY = [16, 32, 64]


async def bench(backend: str, calls: int, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        keep = Path(tmp) / "callbacks.hex"
        paced = await call_everyone(backend, calls, rate, keep)
    free = await call_everyone(backend, calls, None, None)
    n = paced["people"]
    print(f"[{backend}] {n} calls at the channel's rate ({rate:g}/s): first to last request "
          f"{paced['seconds']:.1f} s = {(n - 1) / paced['seconds']:.2f} calls/s; unthrottled (concurrency 10): "
          f"{free['seconds']:.2f} s = {(n - 1) / free['seconds']:.0f} calls/s (ledger + signed request each)")
    for taken in paced["callbacks"]:
        first, bare = n / taken["first"], n / taken["bare"]
        print(f"[{backend}] {n} callbacks ({taken['recorded']} recorded, {taken['acked']} acknowledged by key 1), "
              f"{taken['concurrency']} at a time: {taken['first']:.2f} s = {first:.0f}/s (server CPU "
              f"{taken['first_cpu']:.2f} s: {n / taken['first_cpu']:.0f}/s of one core); all again as repeats "
              f"{n / taken['again']:.0f}/s; bare aiohttp handler {bare:.0f}/s (CPU {taken['bare_cpu']:.2f} s); "
              f"ratio {first / bare:.0%}")
    print(f"[{backend}] target >= 1000 callbacks/s on SQLite; load average during the run "
          f"{' '.join(f'{load:.1f}' for load in os.getloadavg())} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=None, help="calls per second (default: the channel's)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=CONCURRENCY,
                        help="callbacks posted at once (each a pass)")
    parser.add_argument("--send", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send:
        send(args.send[0], args.send[1], int(args.send[2]))
        return
    from fangxun.warnings.delivery.channels.config import VoiceConfig

    rate = args.rate or VoiceConfig.model_fields["rate_per_second"].default
    CONCURRENCY[:] = args.concurrency
    os.environ[SECRET_ENV] = SECRET  # where the channel and the callback route read it
    tune_for_service()  # as `fangxun serve` does
    for backend in args.backends:
        asyncio.run(bench(backend, args.calls, rate))


if __name__ == "__main__":
    main()
