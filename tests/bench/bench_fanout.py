"""Fan-out benchmark: a red rainstorm warning over the whole demo city, through the webhook channel.

Prints, per database: the notifications written (every department, every district/township/village
责任人 and 副责任人), the time from POST /api/warnings to the last delivery at a local sink (target < 5 s
on SQLite), notifications per second, and in the same run a bare aiohttp client loop posting the same
number of bodies to the same sink (target: the fan-out reaches at least 50% of its rate). Each database
is measured --runs times (3), each run on a new database; the summary line takes the median of each time.
The sink (the suite's recording Sink, or with --lean-sink one that only counts) runs in its own
process, as a real receiver would, and collects its garbage only between the phases.
With --absences N, N of the city's 责任人 are away (请假, in force) when the warning comes: their unit's 副责任人
stand in for them (plans/absence_rules.py), which costs one more query per warning.
Run: .venv/bin/python tests/bench/bench_fanout.py [sqlite|postgresql] [--runs N] [--concurrency N] [--lean-sink]
     [--absences N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
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

from sqlalchemy import func, select  # noqa: E402
from support.databases import migrated_engine  # noqa: E402
from support.sinks import Sink  # noqa: E402

from fangxun.api.app import WARNING_SERVICE, create_app  # noqa: E402
from fangxun.core.accounts import create_token, signing_secret  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.core.runtime import tune_for_service  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.plans.models import Contact, ContactAbsence  # noqa: E402
from fangxun.settings import Settings, load_settings  # noqa: E402
from fangxun.warnings.acks.tokens import ack_token, ack_url  # noqa: E402
from fangxun.warnings.config import WarningSettings  # noqa: E402
from fangxun.warnings.delivery.channels.base import OutgoingMessage  # noqa: E402
from fangxun.warnings.delivery.channels.webhook import webhook_body  # noqa: E402
from fangxun.warnings.delivery.outbox import ACK_SLOT, compose  # noqa: E402
from fangxun.warnings.tables import Notification, Warning, WarningExpansion  # noqa: E402

# --- the sink process -------------------------------------------------------------------------

def serve_sink(lean: bool) -> None:
    """The suite's recording sink (tests/support/sinks.py), or with `lean` a receiver that only counts;
    both answer 200 and report requests and distinct idempotency keys at /stats."""
    # The sink's own garbage collector would pause it (~0.1 s once it holds a few thousand recorded
    # requests) in whichever phase happens to cross its threshold: here the fan-out, never the bare loop
    # after a reset. So it collects only at /reset, between the phases, and both meet the same receiver.
    gc.disable()
    keys: set[str] = set()
    count = [0]
    recording = Sink()

    async def hook(request: web.Request) -> web.StreamResponse:
        if not lean:
            response = await recording._handle(request)
        else:
            await request.read()
            response = web.Response(text="ok")
        count[0] += 1
        keys.add(request.headers.get("Idempotency-Key", ""))
        return response

    async def stats(request: web.Request) -> web.Response:
        # With ?prefix=, only the keys of one warning (fx-<id>-): the demo year leaves rows of its own to send.
        prefix = request.query.get("prefix", "")
        counted = sum(1 for key in keys if key.startswith(prefix)) if prefix else len(keys)
        return web.json_response({"requests": count[0], "keys": counted})

    async def reset(_request: web.Request) -> web.Response:
        keys.clear()
        recording.requests.clear()
        count[0] = 0
        gc.collect()
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hook", hook)
        app.router.add_get("/stats", stats)
        app.router.add_post("/reset", reset)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the benchmark ----------------------------------------------------------------------------

def bench_settings(base: Settings, hook_url: str, concurrency: int) -> Settings:
    """The packaged routing tree and departments, every contact and person on one webhook channel."""
    data = base.warnings.model_dump(by_alias=True, exclude_none=True)
    data["channels"] = {"hook": {"kind": "webhook", "url": hook_url, "concurrency": concurrency}}
    for department in data["departments"].values():
        department["desk"]["channel"] = department["leader"]["channel"] = "hook"
    data["escalation"]["city_duty_desk"]["channel"] = "hook"
    data["default_route"]["person_channels"] = ["hook"]

    def rechannel(route: dict) -> None:
        if route.get("person_channels"):
            route["person_channels"] = ["hook"]
        if route.get("department_channel"):
            route["department_channel"] = "hook"
        for child in route.get("routes", ()):
            rechannel(child)

    for route in data["routes"]:
        rechannel(route)
    # The plan review reminders the scheduler sends at start would reach the same sink and be counted.
    registry = base.registry.model_copy(update={"reminders": base.registry.reminders.model_copy(update={"enabled": False})})
    return base.model_copy(update={"warnings": WarningSettings.model_validate(data), "registry": registry})


def city_form(now) -> dict:
    """The hand-entry form of a red rainstorm warning over the whole city (郑州市, 410100000000)."""
    return {"event": "暴雨", "colour": "红", "areas": {"unit_codes": ["410100000000"], "description": "郑州市全境"},
            "onset": now.isoformat(), "expires": (now + timedelta(hours=6)).isoformat(),
            "description": "过去3小时全市大部地区降雨量已达100毫米以上，且降雨将持续。",
            "instruction": "请立即启动防汛应急响应。"}


async def bare_loop(url: str, bodies: list[bytes], concurrency: int) -> float:
    """Seconds for a plain aiohttp client to POST every body, `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def one(body: bytes, number: int) -> None:
            async with gate:
                async with http.post(url, data=body, headers={"Content-Type": "application/json",
                                                               "Idempotency-Key": f"bare-{number}"}) as response:
                    await response.read()

        start = time.perf_counter()
        await asyncio.gather(*(one(body, n) for n, body in enumerate(bodies)))
        return time.perf_counter() - start


async def outcomes_recorded(sessions, warning_id: int, expected: int) -> None:
    """Wait until the dispatcher has written back every delivery of the warning (it does so in batches, shortly
    after)."""
    for _ in range(3000):
        async with sessions() as session:
            done = (await session.execute(select(func.count()).select_from(Notification)
                                          .where(Notification.warning_id == warning_id,
                                                 Notification.status == "delivered"))).scalar()
        if done >= expected:
            return
        await asyncio.sleep(0.01)
    raise RuntimeError(f"only {done} of {expected} deliveries recorded")


async def written_in_full(sessions, result: dict) -> dict:
    """The intake's answer with the totals of its expansion once every notification is written."""
    for _ in range(12000):
        async with sessions() as session:
            row = await session.get(WarningExpansion, result["warning_id"])
        if row is None or row.finished_at is not None:
            if row is None:
                return result
            return {**result, "notifications": row.written, "unreachable": row.unreachable,
                    "units_without_persons": list(row.units_without_persons or [])}
        await asyncio.sleep(0.01)
    raise RuntimeError("the warning's notifications were not all written within 120 s")


async def sent_bodies(sessions, warning_id: int, base_url: str) -> list[bytes]:
    """The JSON bodies of every delivered notification of the warning, as the webhook channel built them (the demo
    year holds notifications of its own)."""
    async with sessions() as session:
        secret = await signing_secret(session)
        rows = (await session.execute(select(Notification, Warning.messages)
                                      .join(Warning, Warning.id == Notification.warning_id)
                                      .where(Notification.warning_id == warning_id,
                                             Notification.status == "delivered"))).all()
    bodies = []
    for row, messages in rows:
        title, text = compose(row.payload, messages, row.recipient_name)
        link = ack_url(base_url, ack_token(secret, row.idempotency_key))
        extra = {k: v for k, v in row.payload.items() if k not in ("title", "text", "message")}
        bodies.append(webhook_body(OutgoingMessage(row.recipient_name, row.address, title.replace(ACK_SLOT, link),
                                                   text.replace(ACK_SLOT, link), link, row.idempotency_key, extra)))
    return bodies


async def sink_stats(http: aiohttp.ClientSession, base: str, prefix: str = "") -> dict:
    async with http.get(f"{base}/stats", params={"prefix": prefix} if prefix else None) as response:
        return await response.json()


async def add_absences(session, count: int, now) -> int:
    """`count` 责任人 (the first by id) away from an hour ago to a day ahead; how many were registered."""
    ids = (await session.execute(select(Contact.id).where(Contact.role == "responsible").order_by(Contact.id)
                                 .limit(count))).scalars().all()
    session.add_all(ContactAbsence(contact_id=contact_id, kind="leave", starts_at=now - timedelta(hours=1),
                                   ends_at=now + timedelta(days=1), reason="bench", created_by="bench")
                    for contact_id in ids)
    return len(ids)


async def bench(backend: str, concurrency: int, sink_base: str, absences: int = 0) -> dict:
    settings, clock = load_settings(), Clock()
    config = bench_settings(settings, f"{sink_base}/hook", concurrency)
    with tempfile.TemporaryDirectory() as tmp:
        async with migrated_engine(backend, Path(tmp)) as engine:
            sessions = session_factory(engine)
            async with sessions() as session, session.begin():
                await load_demo(session, settings, clock.today())
                token = await create_token(session, "editor", label="bench")
                away = await add_absences(session, absences, clock.now()) if absences else 0
            if backend == "sqlite":  # start from a checkpointed WAL, as a running service would
                async with engine.connect() as connection:
                    await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            # The service as `fangxun serve` runs it: the dispatcher in the web process, which takes the
            # accepted rows straight from the intake.
            app = create_app(engine, config, clock, dispatch=True)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            api = f"http://127.0.0.1:{runner.addresses[0][1]}/api/warnings"
            try:
                async with aiohttp.ClientSession() as control:
                    await control.post(f"{sink_base}/reset")
                    start = time.perf_counter()
                    async with control.post(api, json=city_form(clock.now()),
                                            headers={"Authorization": f"Bearer {token}"}) as response:
                        result = await response.json()
                        assert response.status == 201, result
                    accepted = time.perf_counter() - start
                    # A warning this large is answered while its notifications are still being written.
                    result = await written_in_full(sessions, result)
                    expected = result["notifications"] - result["unreachable"]
                    mine = f"fx-{result['warning_id']}-"
                    while (stats := await sink_stats(control, sink_base, mine))["keys"] < expected:
                        if time.perf_counter() - start > 120:
                            raise RuntimeError(f"only {stats['keys']} of {expected} delivered after 120 s")
                        await asyncio.sleep(0.02)  # each look is a request to the sink: not too often
                    total = time.perf_counter() - start
                    await outcomes_recorded(sessions, result["warning_id"], expected)
                    # The very bodies the webhook channel posted, through a bare client loop.
                    bodies = await sent_bodies(sessions, result["warning_id"],
                                               app[WARNING_SERVICE].dispatcher.ack_base_url)
                    await control.post(f"{sink_base}/reset")
                    bare = await bare_loop(f"{sink_base}/hook", bodies, concurrency)
                    assert (await sink_stats(control, sink_base))["requests"] == len(bodies)
            finally:
                await runner.cleanup()
    sent = result["notifications"] - result["unreachable"]
    assert stats["keys"] == sent == len(bodies)
    rate, bare_rate = sent / total, len(bodies) / bare
    print(f"[{backend}] {result['notifications']} notifications ({result['unreachable']} unreachable, "
          f"{len(result['units_without_persons'])} units without 责任人, {away} 责任人 away); "
          f"POST /api/warnings answered 201 in "
          f"{accepted:.2f} s; all {sent} delivered {total:.2f} s after the POST; fan-out {rate:.0f}/s, "
          f"bare loop {bare_rate:.0f}/s ({bare:.2f} s), ratio {rate / bare_rate:.0%}")
    return {"sent": sent, "total": total, "bare": bare, "accepted": accepted}


def summarise(backend: str, runs: list[dict]) -> None:
    """The median of each time over the runs (one noisy run does not decide), against the targets."""
    total, bare = statistics.median(r["total"] for r in runs), statistics.median(r["bare"] for r in runs)
    accepted = statistics.median(r["accepted"] for r in runs)
    sent = runs[0]["sent"]
    rate, bare_rate = sent / total, sent / bare
    print(f"[{backend}] median of {len(runs)} runs: POST answered 201 in {accepted:.2f} s; "
          f"all {sent} delivered {total:.2f} s after the POST "
          f"(target < 5 s); fan-out {rate:.0f} notifications/s; bare aiohttp loop {bare_rate:.0f} posts/s "
          f"({bare:.2f} s); ratio {rate / bare_rate:.0%} (target >= 50%)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3, help="runs per database (each on a new database)")
    parser.add_argument("--lean-sink", action="store_true",
                        help="a sink that only counts (by default: the suite's recording Sink)")
    parser.add_argument("--absences", type=int, default=0, help="this many 责任人 away when the warning comes")
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        serve_sink(args.lean_sink)
        return
    tune_for_service()  # as `fangxun serve` does
    sink = subprocess.Popen([sys.executable, __file__, "--sink"] + (["--lean-sink"] if args.lean_sink else []),
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(sink.stdout.readline())
        for backend in args.backends:
            summarise(backend, [asyncio.run(bench(backend, args.concurrency, f"http://127.0.0.1:{port}", args.absences))
                                for _ in range(args.runs)])
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
