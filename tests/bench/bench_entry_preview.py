"""Warning entry page benchmark: how long a duty officer waits for the preview of who will be told.

On the demo registry (3,530 units, their 责任人, the packaged routing), per database: the page's preview
(POST /warnings/new/preview, a signed-in editor) of a red rainstorm over the whole city, over one district (金水区),
over one township (巩义市 新华路街道) and over a drawn polygon across the city centre, beside the API's dry run of
the same warning (POST /api/warnings?dry_run=1, a token); and the picker's search for "新华". Each figure is the
median of --runs (5) requests after one warm-up; nothing is stored.
Run: .venv/bin/python tests/bench/bench_entry_preview.py [sqlite|postgresql] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/support

from support.databases import migrated_engine  # noqa: E402

from fangxun.api.app import create_app  # noqa: E402
from fangxun.core.accounts import create_token, create_user  # noqa: E402
from fangxun.core.clock import Clock  # noqa: E402
from fangxun.core.db import session_factory  # noqa: E402
from fangxun.demo.registry import load_demo  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402

NOW = datetime(2026, 7, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing time
PASSWORD = "bench-entry-password"
CENTRE = {"type": "Polygon", "coordinates": [[[113.55, 34.70], [113.75, 34.70], [113.75, 34.85], [113.55, 34.85],
                                              [113.55, 34.70]]]}
AREAS = {"全市（郑州市）": {"unit_codes": ["410100000000"]}, "一个区（金水区）": {"unit_codes": ["410105000000"]},
         "一个街道（巩义市 新华路街道）": {"unit_codes": ["410181001000"]}, "地图划定（市区中心）": {"polygon": CENTRE}}


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
            client = TestClient(TestServer(create_app(engine, settings, Clock(fixed=NOW))))
            await client.start_server()
            try:
                signed = await client.post("/login", data={"username": "bench01", "password": PASSWORD},
                                           allow_redirects=False)
                assert signed.status == 303
                for label, areas in AREAS.items():
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
                    print(f"{dialect:10} {label:16} 区划 {len(shown['units']):5}  通知 {told['notifications']:6}  "
                          f"页面预览 {page_s * 1000:7.0f} ms  API 演算 {api_s * 1000:7.0f} ms")

                async def search():
                    return await (await client.get("/api/units/search", params={"q": "新华"})).json()

                search_s, found = await _median(runs, search)
                print(f"{dialect:10} 查找“新华”       {len(found['units'])} 个匹配  {search_s * 1000:7.1f} ms")
            finally:
                await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dialects", nargs="*", default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for dialect in args.dialects:
        asyncio.run(bench(dialect, args.runs))


if __name__ == "__main__":
    main()
