"""Province-scale delivery benchmark: a red warning over the whole 河北 list (~110,000 notifications) delivered by
N `fangxun dispatch` processes to a local webhook sink, on PostgreSQL.

The registry is loaded as an operator does it (`fangxun units import` of the 河北 list, `fangxun plans import` of
a generated 防汛应急预案 per unit with its 责任人 and 副责任人, tests/bench/scale_data.py); the warning is accepted through the service's API (the
web app without a dispatcher, so every notification waits in the outbox). Then, for each N, the sink is reset, N
real `fangxun dispatch` processes are started at once (a config naming a webhook channel at the sink), and the
time from their start to the sink holding every idempotency key is printed beside the target (< 30 s); the rows
are made due again between runs. In the same run, a bare aiohttp client loop posts the same number of bodies (the
webhook bodies of those notifications) to the same sink at one dispatcher's concurrency: the baseline.
The sink runs in its own process (tests/bench/bench_fanout.py --sink --lean-sink). Nothing is asserted; nothing
generated is kept.
Run: .venv/bin/python tests/bench/bench_delivery_scale.py [--processes 1 2 4] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support and tests/bench
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from bench_fanout import bare_loop, bench_settings, sink_stats  # noqa: E402
from cpu_probe import CpuProbe, cpu_seconds  # noqa: E402
from scale_data import plan_rows, province_units, write_csv  # noqa: E402
from sqlalchemy import delete, func, select, text, update  # noqa: E402
from support.databases import empty_database_url  # noqa: E402
from support.shared_data import shared_data_file  # noqa: E402

from fangxun.api.app import create_app  # noqa: E402
from fangxun.core.accounts import create_token  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import create_engine, session_factory  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.delivery.channels.base import OutgoingMessage  # noqa: E402
from fangxun.warnings.delivery.channels.webhook import webhook_body  # noqa: E402
from fangxun.warnings.delivery.outbox import ACK_SLOT, compose  # noqa: E402
from fangxun.warnings.tables import DispatchWorker, Notification, NotificationAttempt, Warning  # noqa: E402

HEBEI = "130000000000"
COMMAND = [str(Path(sys.executable).with_name("fangxun"))]
FANOUT = Path(__file__).resolve().parent / "bench_fanout.py"
TARGET_SECONDS = 30.0
WATCHDOG_SECONDS = 600.0
LINK_BASE = "http://127.0.0.1:8080"
FLOOD_PLAN = "防汛应急预案"


def command(url: str, *args: str) -> float:
    """One `fangxun` command to its end, its seconds; a failure stops the bench."""
    start = time.perf_counter()
    done = subprocess.run([*COMMAND, "--database-url", url, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"fangxun {' '.join(args)} failed: {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - start


def dispatch_config(folder: Path, hook_url: str, concurrency: int) -> Path:
    """The config the dispatch processes run with: a webhook channel `hook` at the sink (the channel the bench's
    routing gave every notification); no plan review reminders (they would reach the sink too)."""
    path = folder / "dispatch.toml"
    path.write_text(f'[registry.reminders]\nenabled = false\n\n[warnings.channels.hook]\nkind = "webhook"\n'
                    f'url = "{hook_url}"\nconcurrency = {concurrency}\n', encoding="utf-8")
    return path


def province_form(now) -> dict:
    """The hand-entry form of a red rainstorm warning over the whole province."""
    from datetime import timedelta

    return {"event": "暴雨", "colour": "红", "areas": {"unit_codes": [HEBEI], "description": "河北省全境"},
            "onset": now.isoformat(), "expires": (now + timedelta(hours=6)).isoformat(),
            "description": "全省大部地区将出现特大暴雨。", "instruction": "请立即启动防汛应急响应。"}


async def accept_province_warning(url: str, sink_hook: str, concurrency: int) -> tuple[int, int, float]:
    """POST the province-wide warning to the web app (no dispatcher in it); (warning id, notifications to send,
    seconds to the 201)."""
    settings, clock = load_settings(), Clock()
    config = bench_settings(settings, sink_hook, concurrency)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            token = await create_token(session, "editor", label="bench")
        app = create_app(engine, config, clock, dispatch=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WATCHDOG_SECONDS)) as http:
                start = time.perf_counter()
                async with http.post(f"http://127.0.0.1:{runner.addresses[0][1]}/api/warnings",
                                     json=province_form(clock.now()),
                                     headers={"Authorization": f"Bearer {token}"}) as response:
                    result = await response.json()
                    assert response.status == 201, result
                accepted = time.perf_counter() - start
        finally:
            await runner.cleanup()
    finally:
        await engine.dispose()
    return result["warning_id"], result["notifications"] - result["unreachable"], accepted


async def make_due_again(url: str, warning_id: int) -> None:
    """Every notification of the warning pending and due now, as before its first run (attempts forgotten)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(delete(NotificationAttempt))
            await connection.execute(update(Notification).where(Notification.warning_id == warning_id).values(
                status="pending", attempts=0, claimed_by=None, lease_until=None, attempt_started_at=None,
                delivered_at=None, ack_deadline=None, last_error=None, next_attempt_at=func.now()))
            await connection.execute(delete(DispatchWorker))
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE notifications"))
            await connection.execute(text("VACUUM ANALYZE notification_attempts"))
    finally:
        await engine.dispose()


async def delivered_by(url: str, config: Path, processes: int, sink_base: str, expected: int,
                       sink_pid: int | None = None) -> tuple[float, float, dict[str, float]]:
    """Start `processes` `fangxun dispatch` at once; (seconds from their start to the sink holding `expected`
    keys, seconds until the last of them said it had started, CPU seconds spent meanwhile by the dispatch processes,
    the database's backends, every PostgreSQL process and the sink). They are stopped (SIGTERM) afterwards."""
    env = {**os.environ, "FANGXUN_LOG_FORMAT": "text"}
    probe_engine = create_engine(url)
    async with aiohttp.ClientSession() as control:
        await control.post(f"{sink_base}/reset")
        start = time.perf_counter()
        children = [await asyncio.create_subprocess_exec(*COMMAND, "--database-url", url, "--config", str(config),
                                                         "dispatch", stdout=asyncio.subprocess.PIPE,
                                                         stderr=asyncio.subprocess.DEVNULL, env=env)
                    for _ in range(processes)]
        probe = CpuProbe(probe_engine, {"dispatch": [child.pid for child in children],
                                        "sink": [sink_pid] if sink_pid else [], "bench": [os.getpid()]})
        await probe.start()
        try:
            started = await asyncio.gather(*(_started(child, start) for child in children))
            while (await sink_stats(control, sink_base))["keys"] < expected:
                if time.perf_counter() - start > WATCHDOG_SECONDS:
                    keys = (await sink_stats(control, sink_base))["keys"]
                    spent = await probe.stop()
                    raise SystemExit(f"only {keys} of {expected} delivered after {WATCHDOG_SECONDS:.0f} s; CPU "
                                     f"meanwhile: {cpu_line(spent, keys, WATCHDOG_SECONDS)}")
                await asyncio.sleep(0.1)
            total = time.perf_counter() - start
            spent = await probe.stop()
        finally:
            for child in children:
                if child.returncode is None:
                    child.send_signal(signal.SIGTERM)
            await asyncio.gather(*(child.wait() for child in children))
            await probe_engine.dispose()
    return total, max(started), spent


def cpu_line(spent: dict[str, float], count: int, seconds: float) -> str:
    """CPU seconds per group, per 1,000 notifications and as cores busy over `seconds`."""
    return "; ".join(f"{name} {value:.1f} s ({1000 * value / count:.2f} s/1000, {value / seconds:.2f} cores)"
                     for name, value in spent.items())


async def _started(child: asyncio.subprocess.Process, start: float) -> float:
    """Seconds until the process printed its start line (its output is read to the end meanwhile)."""
    line = await child.stdout.readline()
    if not line:
        raise SystemExit("fangxun dispatch ended before it started")
    at = time.perf_counter() - start

    async def drain() -> None:
        while await child.stdout.readline():
            pass

    asyncio.get_running_loop().create_task(drain())
    return at


async def notification_bodies(url: str, warning_id: int) -> list[bytes]:
    """The webhook bodies of the warning's notifications (ack links with a stand-in token: same length), built as
    the webhook channel builds them: what the bare loop posts."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            messages = (await session.execute(select(Warning.messages).where(Warning.id == warning_id))).scalar_one()
            rows = (await session.execute(
                select(Notification.payload, Notification.recipient_name, Notification.address,
                       Notification.idempotency_key).where(Notification.warning_id == warning_id,
                                                           Notification.status == "delivered"))).all()
    finally:
        await engine.dispose()
    link = f"{LINK_BASE}/ack/{'x' * 43}"
    bodies = []
    for payload, name, address, key in rows:
        title, body = compose(payload, messages or {}, name)
        extra = {k: v for k, v in payload.items() if k not in ("title", "text", "message")}
        bodies.append(webhook_body(OutgoingMessage(name, address, title.replace(ACK_SLOT, link),
                                                   body.replace(ACK_SLOT, link), link, key, extra)))
    return bodies


async def deliver(url: str, processes: list[int], concurrency: int, sink_base: str, folder: Path,
                  sink_pid: int | None = None) -> None:
    """The delivery figures on a database that holds the 河北 registry with its plans."""
    warning_id, expected, accepted = await accept_province_warning(url, f"{sink_base}/hook", concurrency)
    print(f"province-wide red warning accepted: {expected} notifications to send, 201 after {accepted:.2f} s",
          flush=True)
    config = dispatch_config(folder, f"{sink_base}/hook", concurrency)
    for number, count in enumerate(processes):
        if number:
            await make_due_again(url, warning_id)
        total, started, spent = await delivered_by(url, config, count, sink_base, expected, sink_pid)
        print(f"{count} × fangxun dispatch (concurrency {concurrency} each): all {expected} delivered {total:.2f} s "
              f"after starting them (target < {TARGET_SECONDS:.0f} s; the last had started after {started:.2f} s); "
              f"{expected / total:.0f}/s; load average {os.getloadavg()[0]:.1f}", flush=True)
        print(f"  CPU meanwhile: {cpu_line(spent, expected, total)}", flush=True)
    bodies = await notification_bodies(url, warning_id)
    async with aiohttp.ClientSession() as control:
        await control.post(f"{sink_base}/reset")
        before = {"bench": cpu_seconds(os.getpid()), "sink": cpu_seconds(sink_pid) if sink_pid else None}
        bare = await bare_loop(f"{sink_base}/hook", bodies, concurrency)
        posted = (await sink_stats(control, sink_base))["requests"]
        spent = {name: cpu_seconds(pid) - before[name] for name, pid in (("bench", os.getpid()), ("sink", sink_pid))
                 if before[name] is not None}
    print(f"baseline, bare aiohttp loop (concurrency {concurrency}), same sink, same run: {posted} posts in "
          f"{bare:.2f} s, {posted / bare:.0f}/s; load average {os.getloadavg()[0]:.1f}", flush=True)
    print(f"  CPU meanwhile (the loop runs in the bench): {cpu_line(spent, posted, bare)}", flush=True)


async def main(processes: list[int] | None = None, concurrency: int = 64) -> None:
    """Load the 河北 registry into a new PostgreSQL database, then print the delivery figures (bench_scale.py may
    call `deliver` on the database it has loaded instead)."""
    processes = processes or [1, 2, 4]
    sink = subprocess.Popen([sys.executable, str(FANOUT), "--sink", "--lean-sink"], stdout=subprocess.PIPE, text=True)
    try:
        sink_base = f"http://127.0.0.1:{int(sink.stdout.readline())}"
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            units = province_units()
            # One plan per unit (its 责任人 and 副责任人): ~113,000 persons, the province the issue measured.
            csv_file = write_csv(folder / "plans.csv", [row for row in plan_rows(units) if row[1] == FLOOD_PLAN])
            async with empty_database_url("postgresql", folder, "delivery") as url:
                command(url, "db", "upgrade")
                seconds = command(url, "units", "import", str(shared_data_file("divisions", "hebei_nbs_2023_codes.csv")))
                seconds += command(url, "plans", "import", str(csv_file))
                print(f"[postgresql] {len(units)} units and their plans loaded in {seconds:.1f} s; "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
                await deliver(url, processes, concurrency, sink_base, folder, sink.pid)
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4], help="dispatch processes per run")
    parser.add_argument("--concurrency", type=int, default=64, help="the webhook channel's concurrency")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.processes, arguments.concurrency))
