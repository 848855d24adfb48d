"""Duty-board benchmark: the first screen of a city-wide red warning (every department and every district, township
and village 责任人 of the demo registry, ~10,000 notifications) lifted by a 解除 that told them all again.

The notices are given a day's mix of states straight in the outbox (delivered, acknowledged, reminded with a reminder
row, escalated, failed), as the dispatcher and the escalation would have left them. Prints, per database: the rows,
the server time of each request of the first screen (the page, the thread list, then the thread and its top groups
as the page asks them side by side), their sum (target < 1 s), a few later requests (a district opened, a village's
rows, a filter, a search), and Chromium's time from navigation to a visible group list. Medians of --runs (5).
Run: .venv/bin/python tests/bench/bench_board.py [sqlite|postgresql] [--runs N] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_fanout
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from bench_fanout import bench_settings  # noqa: E402
from sqlalchemy import func, insert, select, text, update  # noqa: E402
from support.api_fixtures import PASSWORD  # noqa: E402
from support.browser import CHROMIUM, CHROMIUM_ARGS, ServiceThread, free_port  # noqa: E402
from support.databases import PG_URL  # noqa: E402
from support.warning_factories import make_warning  # noqa: E402

from fangxun.core.accounts import create_token, create_user  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import create_engine, refresh_statistics, session_factory  # noqa: E402
from fangxun.core.migrate import upgrade  # noqa: E402
from fangxun.core.runtime import tune_for_service  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from fangxun.warnings.intake.accept import ingest  # noqa: E402
from fangxun.warnings.tables import Notification  # noqa: E402

N = Notification.__table__
USER = "bench-board"
NOWHERE = "http://127.0.0.1:9/hook"
MARK = "board-groups-shown"  # board.js marks the frame after its group list is in the page


class Database:
    """A migrated database of `backend`: a SQLite file, or a throwaway PostgreSQL schema (dropped by `drop`)."""

    def __init__(self, backend: str, folder: Path):
        self.backend, self.schema = backend, f"fx_bench_{uuid.uuid4().hex[:10]}"
        self.url = f"sqlite:///{folder}/board.db" if backend == "sqlite" else PG_URL
        self.connect_args = {} if backend == "sqlite" else {"server_settings": {"search_path": self.schema}}

    def engine(self):
        return create_engine(self.url, connect_args=self.connect_args) if self.connect_args else create_engine(self.url)

    async def create(self) -> None:
        if self.backend == "postgresql":
            admin = create_engine(PG_URL)
            async with admin.begin() as connection:
                await connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            await admin.dispose()
        engine = self.engine()
        await upgrade(engine)
        await engine.dispose()

    async def drop(self) -> None:
        if self.backend == "postgresql":
            admin = create_engine(PG_URL)
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            await admin.dispose()


async def build(database: Database, settings, start) -> dict:
    """The demo registry, the city-wide red warning at `start` in a day's mix of states, its 解除 40 minutes later."""
    engine = database.engine()
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await load_demo(session, settings, start.date())
            await create_user(session, USER, PASSWORD, "viewer")
            token = await create_token(session, "viewer", label="bench")
        document = make_warning("bench-city", sent=start, expires=start + timedelta(hours=12), area_description="郑州市全境")
        alert = (await ingest(sessions, document, settings, start)).warning
        async with sessions() as session, session.begin():
            await _day_of_states(session, alert.id, start)
        lifted = start + timedelta(minutes=40)
        cancel = make_warning("bench-city-lifted", msg_type="Cancel", colour=None, references=(document,), geocodes=(),
                              sent=lifted, description="暴雨红色预警解除。")
        lifted_id = (await ingest(sessions, cancel, settings, lifted)).warning.id
        async with sessions() as session, session.begin():  # the 解除 told them all (it asks no 叫应)
            await session.execute(update(N).where(N.c.warning_id == lifted_id, N.c.status == "pending").values(
                status="delivered", delivered_at=lifted + timedelta(minutes=1), attempts=1, next_attempt_at=None))
        async with sessions() as session, session.begin():
            if database.backend == "postgresql":
                await refresh_statistics(session, ["notifications", "warnings", "admin_units"])
            counts = dict((await session.execute(select(N.c.purpose, func.count()).where(N.c.warning_id == alert.id)
                                                 .group_by(N.c.purpose))).all())
            counts["lifted"] = (await session.execute(select(func.count()).where(N.c.warning_id == lifted_id))
                                ).scalar_one()
        return {"alert": alert.id, "rows": counts, "token": token}
    finally:
        await engine.dispose()


async def _day_of_states(session, warning_id: int, start) -> None:
    """Delivered at the start; 55% acknowledged; a tenth reminded (a reminder row, a new deadline); a fifth of the
    rest escalated; one in fifty failed."""
    delivered, deadline = start + timedelta(minutes=1), start + timedelta(minutes=16)
    mine = N.c.warning_id == warning_id
    await session.execute(update(N).where(mine, N.c.status == "pending").values(
        status="delivered", delivered_at=delivered, ack_deadline=deadline, attempts=1, next_attempt_at=None))
    await session.execute(update(N).where(mine, N.c.status == "delivered", N.c.id % 20 < 11).values(
        acked_at=start + timedelta(minutes=6), acked_via="page"))
    await session.execute(update(N).where(mine, N.c.acked_at.is_(None), N.c.id % 50 == 7).values(
        status="failed", last_error="HTTP 500", ack_deadline=None, delivered_at=None))
    reminded = (await session.execute(select(N).where(mine, N.c.acked_at.is_(None), N.c.status == "delivered",
                                                      N.c.id % 10 == 1))).all()
    await session.execute(update(N).where(N.c.id.in_([row.id for row in reminded])).values(reminders_sent=1))
    await session.execute(insert(N), [
        {**{key: getattr(row, key) for key in ("warning_id", "recipient_kind", "recipient_key", "recipient_name",
                                               "unit_code", "level", "channel", "address", "payload", "priority")},
         "idempotency_key": f"bench-reminder-{row.id}", "purpose": "reminder", "status": "delivered", "attempts": 1,
         "ack_token_hash": hashlib.sha256(f"bench-reminder-{row.id}".encode()).hexdigest(),
         "delivered_at": start + timedelta(minutes=17), "ack_deadline": start + timedelta(minutes=32),
         "escalated_from_id": row.id, "escalation_step": row.escalation_step,
         "created_at": start + timedelta(minutes=17)}
        for row in reminded])
    await session.execute(update(N).where(mine, N.c.purpose == "notice", N.c.acked_at.is_(None),
                                          N.c.status == "delivered", N.c.reminders_sent == 0, N.c.id % 5 == 2)
                          .values(escalated_at=start + timedelta(minutes=17)))


class BenchService(ServiceThread):
    """The application (no dispatcher) over the bench database, on a free port, in a thread of its own."""

    def __init__(self, database: Database, settings, clock):
        super().__init__(database.url, free_port())
        self.database, self.settings, self.clock = database, settings, clock

    async def _start(self) -> None:
        from aiohttp import web

        from fangxun.api.app import create_app
        self.engine = self.database.engine()
        self.runner = web.AppRunner(create_app(self.engine, self.settings, self.clock), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        await self.runner.cleanup()
        await self.engine.dispose()


async def timed(http: aiohttp.ClientSession, url: str, token: str, **params) -> tuple[float, object]:
    start = time.perf_counter()
    async with http.get(url, params=params, headers={"Authorization": f"Bearer {token}"}) as response:
        body = await (response.json() if "/api/" in url else response.text())
        assert response.status == 200, body
    return time.perf_counter() - start, body


async def first_screens(base: str, token: str, thread: int, runs: int) -> dict[str, list[float]]:
    """Server times of the first screen's requests and of some later ones, `runs` times each."""
    found: dict[str, list[float]] = {}
    api = f"{base}/api/board/threads/{thread}"
    async with aiohttp.ClientSession() as http:
        for _ in range(runs + 1):  # the first round warms the caches and is left out
            page, _ = await timed(http, f"{base}/board", token)
            threads, _ = await timed(http, f"{base}/api/board/threads", token)
            (detail, _), (groups, top) = await asyncio.gather(timed(http, api, token),
                                                              timed(http, f"{api}/groups", token))
            district = next(g for g in top["groups"] if g["kind"] == "unit")
            opened, below = await timed(http, f"{api}/groups", token, parent=district["key"])
            township = next(g for g in below["groups"] if g["has_children"])
            _, villages = await timed(http, f"{api}/groups", token, parent=township["key"])
            village = next(g for g in villages["groups"] if g["kind"] == "unit")
            rows, _ = await timed(http, f"{api}/recipients", token, group=village["key"])
            overdue, _ = await timed(http, f"{api}/groups", token, filter="overdue")
            search, _ = await timed(http, f"{api}/recipients", token, q="村")
            everything, _ = await timed(http, f"{api}/groups", token, message="all")
            for name, value in (("page", page), ("threads", threads), ("thread", detail), ("groups", groups),
                                ("first screen", page + threads + max(detail, groups)), ("a district opened", opened),
                                ("a village's rows", rows), ("filter overdue", overdue), ("search 村", search),
                                ("all messages' groups", everything)):
                found.setdefault(name, []).append(value)
    return {name: values[1:] for name, values in found.items()}


def browser_times(base: str, runs: int) -> list[float]:
    """Chromium: seconds from navigating to /board (signed in) to the frame after the group list is in the page (the
    page marks it: board-groups-shown)."""
    from playwright.sync_api import sync_playwright
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                   else route.abort())
        page.goto(f"{base}/login?next=/board")
        page.fill("#username", USER)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#groups details.group", timeout=60_000)
        for _ in range(runs):
            page.goto(f"{base}/board")
            page.wait_for_function(f"() => performance.getEntriesByName('{MARK}').length", timeout=60_000)
            assert page.locator("#groups details.group").first.is_visible()
            times.append(page.evaluate(f"() => performance.getEntriesByName('{MARK}')[0].startTime") / 1000)
        browser.close()
    return times


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def bench(backend: str, runs: int, browser: bool) -> None:
    base_settings = load_settings()
    settings = bench_settings(base_settings, NOWHERE, 64)
    start = Clock().now().replace(microsecond=0) - timedelta(hours=1)
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(backend, Path(tmp))
        asyncio.run(database.create())
        try:
            built = time.perf_counter()
            story = asyncio.run(build(database, settings, start))
            built = time.perf_counter() - built
            rows = story["rows"]
            print(f"[{backend}] built in {built:.0f} s: the alert's {rows.get('notice', 0)} notices with "
                  f"{rows.get('reminder', 0)} reminders, its 解除's {rows['lifted']} notices")
            service = BenchService(database, settings, Clock(fixed=start + timedelta(minutes=45)))
            base = service.start()
            try:
                times = asyncio.run(first_screens(base, story["token"], story["alert"], runs))
                print(f"[{backend}] server times, median of {runs}: " + "; ".join(
                    f"{name} {median_ms(values)}" for name, values in times.items()))
                print(f"[{backend}] first screen (page + thread list + max(thread, groups)): "
                      f"{median_ms(times['first screen'])} (target < 1 s)")
                if browser:
                    seen = browser_times(base, runs)
                    print(f"[{backend}] Chromium, navigation to a visible group list: {median_ms(seen)} "
                          f"(runs: {', '.join(f'{value * 1000:.0f}' for value in seen)} ms)")
            finally:
                service.stop()
        finally:
            asyncio.run(database.drop())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="server times only")
    args = parser.parse_args()
    tune_for_service()
    for backend in args.backends:
        bench(backend, args.runs, not args.no_browser)


if __name__ == "__main__":
    main()
