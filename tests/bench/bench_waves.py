"""Reminder-wave benchmark: a new red city warning while a wave of ~77,000 reminders is made and sent.

The demo registry in the service as `fangxun serve` runs it (dispatcher and scheduler in the web process, a
webhook channel to a local aiohttp sink in its own process: bench_fanout's). A small red warning gets ~77,000
synthetic notices more, written with the project's NoticeWriter, marked delivered and past their 叫应 deadline
unanswered: one reminder pass (the scheduler's WarningJobs.escalate, run here by hand: the scheduler's own
escalation job is removed so that it starts when measured) then makes one reminder for each.

Measured, while GET /api/health is polled every 50 ms from this process (latency: worst and p95), with the
loop's lag and its longest callback in CPU time (a lag far above the longest callback is the machine's load):
- baseline: a red city-wide warning with no wave: POST → 201, POST → first delivery, POST → all delivered;
- the same while the wave is being made (the POST 1 s after the pass starts), and while it is being sent (after
  the pass ended, reminders still queued).
Targets (issue 18, item 6): first delivery < 1 s, health < 200 ms. Nothing is asserted.
Run: .venv/bin/python tests/bench/bench_waves.py [postgresql|sqlite] [--rows 77000]
(main(dialect, rows) is what bench_scale.py calls.)
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
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/bench

from bench_fanout import bench_settings, city_form, sink_stats, written_in_full  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402
from support.databases import migrated_engine  # noqa: E402

from fangxun.api.app import WARNING_SERVICE, create_app  # noqa: E402
from fangxun.core.accounts import create_token  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.core.runtime import tune_for_service  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.plans.models import AdminUnit  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.acks import escalation  # noqa: E402
from fangxun.warnings.delivery.notices import NewNotice, signed_writer  # noqa: E402
from fangxun.warnings.routing.recipients import Recipient  # noqa: E402
from fangxun.warnings.scheduler import ESCALATE_JOB  # noqa: E402
from fangxun.warnings.tables import Notification  # noqa: E402

BENCH = Path(__file__).resolve().parent
HEALTH_EVERY = 0.05
_HANDLE_RUN = asyncio.Handle._run
LAG_EVERY = 0.01
CONCURRENCY = 64


class HealthProbe:
    """GET /api/health every HEALTH_EVERY seconds from this process, the loop's lag (how late a LAG_EVERY sleep
    wakes up: the machine's load counts too) and the longest stretches the loop ran one callback (its thread's
    CPU time: what the process itself holds the loop for); seconds."""

    def __init__(self, url: str):
        self.url, self.times, self.lags, self.stretches, self._tasks = url, [], [], [], []

    async def __aenter__(self) -> HealthProbe:
        self._tasks = [asyncio.create_task(self._poll()), asyncio.create_task(self._lag())]
        stretches, run = self.stretches, _HANDLE_RUN

        def timed(handle) -> None:
            start = time.thread_time()
            run(handle)
            stretches.append(time.thread_time() - start)

        asyncio.Handle._run = timed
        return self

    async def __aexit__(self, *exc) -> None:
        asyncio.Handle._run = _HANDLE_RUN
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _lag(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(LAG_EVERY)
            self.lags.append(time.perf_counter() - start - LAG_EVERY)

    async def _poll(self) -> None:
        async with aiohttp.ClientSession() as http:
            while True:
                start = time.perf_counter()
                async with http.get(self.url) as response:
                    await response.read()
                self.times.append(time.perf_counter() - start)
                await asyncio.sleep(HEALTH_EVERY)

    def summary(self) -> str:
        if not self.times:
            return "health: no answers"
        ordered = sorted(self.times)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        lags = sorted(self.lags) or [0.0]
        return (f"health: {len(ordered)} checks, worst {ordered[-1] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                f"median {statistics.median(ordered) * 1000:.0f} ms (target < 200 ms); loop lag worst "
                f"{lags[-1] * 1000:.0f} ms, {sum(1 for lag in lags if lag > 0.05)} of {len(lags)} samples > 50 ms; "
                f"longest callback {max(self.stretches, default=0) * 1000:.0f} ms CPU, "
                f"{sum(1 for cpu in self.stretches if cpu > 0.05)} > 50 ms")


async def post_city_warning(control: aiohttp.ClientSession, api: str, token: str, sink: str, now, sessions,
                            expected_time: float = 120) -> dict:
    """POST a red city-wide warning; seconds to 201, to its first delivery at the sink (polled every 10 ms once
    the 201 is read: a first delivery before it counts as the 201's time), to its last."""
    start = time.perf_counter()
    async with control.post(api, json=city_form(now), headers={"Authorization": f"Bearer {token}"}) as response:
        result = await response.json()
        assert response.status == 201, result
    accepted = time.perf_counter() - start
    prefix = f"fx-{result['warning_id']}-"
    first = None
    while not first:  # the 201 may come before every notification is written (expanding): wait for the first
        if (await sink_stats(control, sink, prefix))["keys"]:
            first = time.perf_counter() - start
        elif time.perf_counter() - start > expected_time:
            raise RuntimeError(f"nothing delivered after {expected_time} s")
        else:
            await asyncio.sleep(0.01)
    result = await written_in_full(sessions, result)
    expected = result["notifications"] - result["unreachable"]
    while (keys := (await sink_stats(control, sink, prefix))["keys"]) < expected:
        if time.perf_counter() - start > expected_time:
            raise RuntimeError(f"only {keys} of {expected} delivered after {expected_time} s")
        await asyncio.sleep(0.05)
    total = time.perf_counter() - start
    return {"accepted": accepted, "first": first, "total": total, "sent": expected}


def warning_line(what: str, figures: dict, probe: HealthProbe) -> None:
    print(f"{what}: 201 in {figures['accepted']:.2f} s; first delivery {figures['first']:.2f} s after the POST "
          f"(target < 1 s; {figures['first'] - figures['accepted']:.2f} s after the 201); all {figures['sent']} delivered after {figures['total']:.2f} s; {probe.summary()}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)


async def seed_wave(sessions, warning_id: int, rows: int, now) -> int:
    """`rows` synthetic notices of the warning (copies of one of its real notices to made-up village persons,
    written with NoticeWriter), then every notice of it delivered 20 minutes ago and 5 minutes past its 叫应
    deadline, unanswered; how many notices it has now."""
    async with sessions() as session, session.begin():
        source = (await session.execute(select(Notification).where(Notification.warning_id == warning_id)
                                        .order_by(Notification.id).limit(1))).scalar_one()
        villages = list((await session.execute(select(AdminUnit.code).where(AdminUnit.level == "village")
                                               .order_by(AdminUnit.code))).scalars())
        payload = {**source.payload, "role": "responsible"}
        notices = []
        for number in range(rows):
            unit = villages[number // 8 % len(villages)]
            who = Recipient("person", f"{unit}:bench{number}", f"村责任人{number}", unit, "village", "hook",
                            f"1390{number:07d}", "default", "responsible", None, f"您是 {unit} 防汛责任人（演示）")
            notices.append(NewNotice(warning_id, who, payload, f"fx-{warning_id}-bench-{number}"))
        writer = await signed_writer(session, load_settings().warnings.quiet_hours)
        await writer.write(session, notices, now - timedelta(minutes=20))
        await session.execute(update(Notification).where(Notification.warning_id == warning_id).values(
            status="delivered", delivered_at=now - timedelta(minutes=20), ack_deadline=now - timedelta(minutes=5),
            attempts=1, lease_until=None, claimed_by=None))
        return (await session.execute(select(func.count()).select_from(Notification)
                                      .where(Notification.warning_id == warning_id))).scalar_one()


async def queued_reminders(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(Notification).where(
            Notification.purpose == "reminder", Notification.status.in_(("pending", "sending"))))).scalar_one()


@asynccontextmanager
async def sink_process():
    """bench_fanout's counting sink in its own process; its base URL."""
    sink = subprocess.Popen([sys.executable, str(BENCH / "bench_fanout.py"), "--sink", "--lean-sink"],
                            stdout=subprocess.PIPE, text=True)
    try:
        yield f"http://127.0.0.1:{int(sink.stdout.readline())}"
    finally:
        sink.terminate()
        sink.wait()


async def main(dialect: str = "postgresql", rows: int = 77_000) -> None:
    """The whole bench on `dialect` with a wave of about `rows` reminders; prints its figures."""
    tune_for_service()
    settings, clock = load_settings(), Clock()
    async with sink_process() as sink:
        config = bench_settings(settings, f"{sink}/hook", CONCURRENCY)
        with tempfile.TemporaryDirectory() as tmp:
            async with migrated_engine(dialect, Path(tmp)) as engine:
                sessions = session_factory(engine)
                async with sessions() as session, session.begin():
                    await load_demo(session, settings, clock.today())
                    token = await create_token(session, "editor", label="bench")
                app = create_app(engine, config, clock, dispatch=True)
                runner = web.AppRunner(app, access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                base = f"http://127.0.0.1:{runner.addresses[0][1]}"
                service = app[WARNING_SERVICE]
                service.scheduler.remove_job(ESCALATE_JOB)  # the pass is started below, when measured
                try:
                    await run(dialect, rows, sessions, service, base, token, sink, clock)
                finally:
                    await runner.cleanup()


async def run(dialect, rows, sessions, service, base, token, sink, clock) -> None:
    api = f"{base}/api/warnings"
    print(f"[{dialect}] demo registry; load average {os.getloadavg()[0]:.1f}", flush=True)
    async with aiohttp.ClientSession() as control:
        # The warning the wave answers for: a small red one, sent and then padded with synthetic notices.
        small = {**city_form(clock.now()), "areas": {"unit_codes": [await _a_village(sessions)], "description": "一村"}}
        async with control.post(api, json=small, headers={"Authorization": f"Bearer {token}"}) as response:
            wave_warning = (await response.json())["warning_id"]
        await asyncio.sleep(1)
        async with HealthProbe(f"{base}/api/health") as probe:
            await asyncio.sleep(1)
            baseline = await post_city_warning(control, api, token, sink, clock.now(), sessions)
            await asyncio.sleep(1)
        warning_line("baseline, no wave", baseline, probe)

        start = time.perf_counter()
        notices = await seed_wave(sessions, wave_warning, rows, clock.now())
        print(f"wave set up: {notices} unanswered notices past their deadline ({time.perf_counter() - start:.1f} s)",
              flush=True)
        chunks = -(-notices // escalation.ROWS_PER_CHUNK)
        async with HealthProbe(f"{base}/api/health") as probe:
            await asyncio.sleep(1)
            started = time.perf_counter()
            wave = asyncio.create_task(service.jobs.escalate())
            await asyncio.sleep(0)
            overlapping = await service.jobs.escalate()  # as the scheduler's next tick would: does nothing
            await asyncio.sleep(1)
            making = await post_city_warning(control, api, token, sink, clock.now(), sessions)
            during = not wave.done()
            created = await wave
            took = time.perf_counter() - started
        print(f"reminder pass: {created} reminders and escalations made in {took:.1f} s, "
              f"{escalation.ROWS_PER_CHUNK} candidates per transaction (~{chunks} transactions); "
              f"a second pass started meanwhile made {overlapping}", flush=True)
        warning_line(f"while the wave is being made ({'pass still running' if during else 'pass had ended'} "
                     f"when the warning was delivered)", making, probe)
        queued = await queued_reminders(sessions)
        async with HealthProbe(f"{base}/api/health") as probe:
            await asyncio.sleep(1)
            sending = await post_city_warning(control, api, token, sink, clock.now(), sessions)
        left = await queued_reminders(sessions)
        warning_line(f"while the wave is being sent ({queued} reminders queued at the POST, {left} after)",
                     sending, probe)


async def _a_village(sessions) -> str:
    async with sessions() as session:
        return (await session.execute(select(AdminUnit.code).where(AdminUnit.level == "village")
                                      .order_by(AdminUnit.code).limit(1))).scalar_one()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dialect", nargs="?", default="postgresql")
    parser.add_argument("--rows", type=int, default=77_000, help="synthetic unanswered notices (reminders made)")
    args = parser.parse_args()
    asyncio.run(main(args.dialect, args.rows))
