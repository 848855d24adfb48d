"""Warning entry page benchmark: how long a duty officer waits for the preview of who will be told.

On the demo registry (3,530 units, their 责任人, the packaged routing), per database: the page's preview
(POST /warnings/new/preview, a signed-in editor) of a red rainstorm over the whole city, over one district (金水区),
over one township (巩义市 新华路街道) and over a drawn polygon across the city centre, beside the API's dry run of
the same warning (POST /api/warnings?dry_run=1, a token); and the picker's search for "新华". With --province, on
PostgreSQL, the same over the 河北 list (56,712 units, two generated plans per unit with their 责任人 and 副责任人:
../shared/data): the whole province, one city (石家庄市), one district (长安区). Each figure is the median of --runs
(5) requests after one warm-up; nothing is stored.
Run: .venv/bin/python tests/bench/bench_entry_preview.py [sqlite|postgresql] [--runs N] [--province]
     (FANGXUN_SHARED_DATA=/work/shared/data for the province)
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/bench

from scale_data import plan_rows, province_units, write_csv  # noqa: E402
from support.databases import empty_database_url, migrated_engine  # noqa: E402
from support.shared_data import shared_data_file  # noqa: E402

from fangxun.api.app import create_app  # noqa: E402
from fangxun.core.accounts import create_token, create_user  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import create_engine, session_factory  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402

NOW = datetime(2026, 7, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing time
PASSWORD = "bench-entry-password"
CENTRE = {"type": "Polygon", "coordinates": [[[113.55, 34.70], [113.75, 34.70], [113.75, 34.85], [113.55, 34.85],
                                              [113.55, 34.70]]]}
AREAS = {"全市（郑州市）": {"unit_codes": ["410100000000"]}, "一个区（金水区）": {"unit_codes": ["410105000000"]},
         "一个街道（巩义市 新华路街道）": {"unit_codes": ["410181001000"]}, "地图划定（市区中心）": {"polygon": CENTRE}}
PROVINCE_AREAS = {"全省（河北省）": {"unit_codes": ["130000000000"]}, "一个市（石家庄市）": {"unit_codes": ["130100000000"]},
                  "一个区（长安区）": {"unit_codes": ["130102000000"]}}
COMMAND = [str(Path(sys.executable).with_name("fangxun"))]


def _form(areas: dict) -> dict:
    local = NOW + timedelta(hours=8)
    return {"event": "暴雨", "colour": "red", "onset": f"{local:%Y-%m-%dT%H:%M}",
            "expires": f"{local + timedelta(hours=6):%Y-%m-%dT%H:%M}", "areas": areas}


def _page_fields(form: dict) -> list[tuple[str, str]]:
    import json
    fields = [(name, form[name]) for name in ("event", "colour", "onset", "expires")]
    fields += [("unit_codes", code) for code in form["areas"].get("unit_codes", [])]
    if "polygon" in form["areas"]:
        fields.append(("polygon", json.dumps(form["areas"]["polygon"])))
    return fields


async def _median(runs: int, ask) -> tuple[float, dict]:
    answer = await ask()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        answer = await ask()
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


async def bench(dialect: str, runs: int) -> None:
    settings = load_settings()
    with tempfile.TemporaryDirectory() as folder:
        async with migrated_engine(dialect, Path(folder)) as engine:
            async with session_factory(engine)() as session, session.begin():
                await load_demo(session, settings, NOW.date())
                await create_user(session, "bench01", PASSWORD, "editor")
                token = await create_token(session, "editor", label="bench")
            await _measure(engine, settings, token, dialect, AREAS, runs, search=True)


def _fangxun(url: str, *args: str) -> None:
    """One `fangxun` command to its end; a failure stops the bench."""
    done = subprocess.run([*COMMAND, "--database-url", url, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"fangxun {' '.join(args)} failed: {done.stderr.decode()[-2000:]}")


async def bench_province(runs: int) -> None:
    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plans = write_csv(folder / "plans.csv", plan_rows(province_units()))
        async with empty_database_url("postgresql", folder, "preview") as url:
            started = time.perf_counter()
            _fangxun(url, "db", "upgrade")
            _fangxun(url, "units", "import", str(shared_data_file("divisions", "hebei_nbs_2023_codes.csv")))
            _fangxun(url, "plans", "import", str(plans))
            print(f"postgresql 河北 loaded in {time.perf_counter() - started:.0f} s", flush=True)
            engine = create_engine(url)
            try:
                async with session_factory(engine)() as session, session.begin():
                    await create_user(session, "bench01", PASSWORD, "editor")
                    token = await create_token(session, "editor", label="bench")
                await _measure(engine, settings, token, "postgresql", PROVINCE_AREAS, runs, search=False)
            finally:
                await engine.dispose()


async def _measure(engine, settings, token: str, dialect: str, areas_by_label: dict, runs: int, search: bool) -> None:
    client = TestClient(TestServer(create_app(engine, settings, Clock(fixed=NOW))))
    await client.start_server()
    try:
        signed = await client.post("/login", data={"username": "bench01", "password": PASSWORD},
                                   allow_redirects=False)
        assert signed.status == 303
        for label, areas in areas_by_label.items():
            form = _form(areas)

            async def page(form=form):
                response = await client.post("/warnings/new/preview", data=_page_fields(form))
                return await response.json()

            async def api(form=form):
                response = await client.post("/api/warnings", params={"dry_run": "1"}, json=form,
                                             headers={"Authorization": f"Bearer {token}"})
                return await response.json()

            page_s, shown = await _median(runs, page)
            api_s, _ = await _median(runs, api)
            told = shown["recipients"]
            units = shown["unit_count"] if "unit_count" in shown else len(shown["units"])
            print(f"{dialect:10} {label:16} 区划 {units:6}  通知 {told['notifications']:6}  "
                  f"页面预览 {page_s * 1000:7.0f} ms  API 演算 {api_s * 1000:7.0f} ms  "
                  f"(load {os.getloadavg()[0]:.2f})", flush=True)

        if search:
            async def search_units():
                return await (await client.get("/api/units/search", params={"q": "新华"})).json()

            search_s, found = await _median(runs, search_units)
            print(f"{dialect:10} 查找“新华”       {len(found['units'])} 个匹配  {search_s * 1000:7.1f} ms")
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dialects", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--province", action="store_true", help="also the 河北 list on PostgreSQL")
    args = parser.parse_args()
    for dialect in args.dialects:
        asyncio.run(bench(dialect, args.runs))
    if args.province:
        asyncio.run(bench_province(args.runs))


if __name__ == "__main__":
    main()
