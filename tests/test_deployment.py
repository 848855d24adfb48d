"""Several processes on one PostgreSQL database, deployed as the README says: two `fangxun serve --no-dispatch`
on ports of their own and two `fangxun dispatch`. A warning posted to one web process reaches every recipient
exactly once; 叫应 goes through the other; both web processes are ready once a dispatcher beats."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from support.cap_samples import ZZ_SENDER, zhengzhou_rainstorm
from support.command_line import Running, free_port, registry_database, run
from support.sinks import Sink
from support.waiting import wait_until
from support.warning_factories import HookKeys

BEIJING = timezone(timedelta(hours=8))
WATCHDOG = 180  # seconds: only so that a hang fails; nothing here is timed
WEB_STARTED, DISPATCH_STARTED = "fangxun 已启动", "fangxun dispatch 已启动"


@pytest.fixture
async def database_url(tmp_path):
    """A fresh PostgreSQL database with the small registry and its 责任人 (several processes need a server)."""
    async with registry_database("postgresql", tmp_path) as url:
        yield url


def write_config(folder: Path, hook_url: str) -> Path:
    """Every message to the webhook `hook_url`."""
    config = folder / "fangxun.toml"
    config.write_text(f'''
[warnings.channels.hook]
kind = "webhook"
url = "{hook_url}"

[warnings.default_route]
department_channel = "hook"
person_channels = ["hook"]
''', encoding="utf-8")
    return config


def rainstorm() -> bytes:
    """A red rainstorm signal over the registry's districts, sent a few minutes ago."""
    sent = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=5)
    return zhengzhou_rainstorm("red", identifier=f"{ZZ_SENDER}_{sent:%Y%m%d%H%M%S}_deploy", sent=sent.isoformat(),
                               expires=(sent + timedelta(days=1)).isoformat())


async def ready(http: aiohttp.ClientSession, base: str) -> tuple[int, dict]:
    async with http.get(f"{base}/api/ready") as response:
        return response.status, await response.json()


async def counts(http: aiohttp.ClientSession, base: str, token: str, warning_id: int) -> dict:
    async with http.get(f"{base}/api/warnings/{warning_id}/notifications",
                        headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
        return await response.json()


async def test_two_web_and_two_dispatch_processes_on_one_postgresql(database_url, tmp_path):
    async with Sink() as hook:
        env = {"FANGXUN_DATABASE_URL": database_url, "FANGXUN_CONFIG": str(write_config(tmp_path, hook.url_for())),
               "FANGXUN_SECRET_KEY": "deployment-test-" + "x" * 16}
        code, out, err = run("token", "create", "--role", "editor", "--label", "值班", env=env)
        assert code == 0, err
        token = out.strip().splitlines()[-1]
        ports = free_port(), free_port()
        web = [Running(tmp_path, "serve", "--no-dispatch", "--port", str(port), env=env) for port in ports]
        dispatch = [Running(tmp_path, "dispatch", env=env) for _ in range(2)]
        first, second = (f"http://127.0.0.1:{port}" for port in ports)
        try:
            await asyncio.gather(*(process.start(WEB_STARTED) for process in web))
            async with aiohttp.ClientSession() as http:
                # Web processes only: alive, but not ready while no dispatcher beats.
                for base in (first, second):
                    status, body = await ready(http, base)
                    assert status == 503 and not body["checks"]["dispatcher"]["ok"], body
                await asyncio.gather(*(process.start(DISPATCH_STARTED) for process in dispatch))

                async def both_ready() -> bool:
                    return [(await ready(http, base))[0] for base in (first, second)] == [200, 200]

                await wait_until(both_ready, timeout=WATCHDOG)

                async with http.post(f"{first}/api/warnings", data=rainstorm(), headers={
                        "Authorization": f"Bearer {token}", "Content-Type": "application/cap+xml"}) as response:
                    assert response.status == 201, await response.text()
                    warning_id = (await response.json())["warning_id"]

                async def all_sent() -> bool:
                    found = (await counts(http, second, token, warning_id))["counts"]
                    return (found["pending"] == 0 and found.get("sending", 0) == 0
                            and found["delivered"] == len(HookKeys.of(hook).counts))

                await wait_until(all_sent, timeout=WATCHDOG)
                received = HookKeys.of(hook).counts
                # Every recipient reached, each exactly once, though two dispatchers drain one outbox.
                assert len(received) > 6 and set(received.values()) == {1}

                # 叫应 through the other web process, seen by the first.
                message = next(request.json for request in hook.requests if request.json.get("ack_url"))
                ack_token = message["ack_url"].rsplit("/", 1)[1]
                async with http.post(f"{second}/api/acks/{ack_token}") as response:
                    assert response.status == 200, await response.text()
                items = (await counts(http, first, token, warning_id))["items"]
                acked = [item for item in items if item["acked_at"]]
                assert [item["recipient_name"] for item in acked] == [message["recipient"]]
                assert acked[0]["acked_via"] == "api"
        finally:
            statuses = [await process.stop() for process in [*web, *dispatch]]
    assert statuses == [0, 0, 0, 0], [process.errors()[-2000:] for process in [*web, *dispatch]]
