"""The log of whole runs, as an operator keeps it: `fangxun serve --log-format json` taken through a sign-in (and a
wrong password), API calls with a token, a warning fanned out to a webhook whose URL holds a key and whose messages
are signed with a secret, a feed whose URL holds a token, 叫应 by link and by API; then `fangxun dispatch` with its
status port. Every line is JSON, and no secret, token or password appears anywhere in what they wrote. On SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.cap_samples import ZZ_SENDER, zhengzhou_rainstorm
from support.command_line import COMMAND, Running, free_port, registry_database, run
from support.sinks import Answer, Sink
from support.waiting import wait_until

BEIJING = timezone(timedelta(hours=8))
STARTED = "fangxun 已启动"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A migrated database with the small registry and its 责任人."""
    async with registry_database(request.param, tmp_path) as url:
        yield url


def write_config(folder: Path, hook_url: str, feed_url: str) -> Path:
    """Every message to the webhook `hook_url` (signed with $FANGXUN_TEST_HOOK_SECRET); a feed at `feed_url`."""
    config = folder / "fangxun.toml"
    config.write_text(f'''
[warnings.channels.record]
kind = "record"
path = "{folder / 'outbox.jsonl'}"

[warnings.channels.hook]
kind = "webhook"
url = "{hook_url}"
secret_env = "FANGXUN_TEST_HOOK_SECRET"

[warnings.default_route]
department_channel = "hook"
person_channels = ["hook"]

[[warnings.feeds]]
name = "cma"
url = "{feed_url}"
interval_seconds = 5
''', encoding="utf-8")
    return config


def rainstorm() -> bytes:
    """A red rainstorm signal over the registry's districts, sent a few minutes ago (serve runs on the real clock)."""
    sent = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=5)
    return zhengzhou_rainstorm("red", identifier=f"{ZZ_SENDER}_{sent:%Y%m%d%H%M%S}_logs", sent=sent.isoformat(),
                               expires=(sent + timedelta(days=1)).isoformat())


def create_user(env: dict, password: str) -> None:
    done = subprocess.run([*COMMAND, "user", "create", "duty01", "--role", "editor"], input=password + "\n",
                          capture_output=True, text=True, timeout=120, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr


def editor_token(env: dict) -> str:
    code, out, err = run("token", "create", "--role", "editor", "--label", "值班", env=env)
    assert code == 0, err
    return out.strip().splitlines()[-1]


def json_lines(text: str) -> list[dict]:
    """Every line of a log, each parsed as JSON (a line that is not fails here)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def test_a_whole_run_logs_json_lines_and_never_a_secret(database_url, tmp_path):
    hook_key, hook_secret, feed_token = (secrets.token_hex(12) for _ in range(3))
    session_key, password, query_secret = secrets.token_hex(16), f"pw-{secrets.token_hex(8)}", secrets.token_hex(10)
    async with Sink() as hook, Sink() as feed:
        # A careless receiver: its first answers are errors that repeat our request back (URL key included).
        hook.script(500, echo=True, times=3)
        document = f"{feed.url}/cap/latest.xml?token={feed_token}"
        feed.default = Answer(200, body=f"<rss><channel><item><link>{document}</link></item></channel></rss>".encode())
        config = write_config(tmp_path, hook.url_for("/hook", key=hook_key), f"{feed.url}/rss?token={feed_token}")
        env = {"FANGXUN_DATABASE_URL": database_url, "FANGXUN_CONFIG": str(config), "FANGXUN_SECRET_KEY": session_key,
               "FANGXUN_TEST_HOOK_SECRET": hook_secret}
        token = editor_token(env)
        create_user(env, password)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        async with Running(tmp_path, "serve", "--port", str(port), "--log-format", "json", env=env) as serve:
            await serve.start(STARTED)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                # A wrong password, then the right one: the session cookie opens the board.
                async with http.post(f"{base}/login", data={"username": "duty01", "password": "wrong-" + password,
                                                            "next": "/board"}, allow_redirects=False) as response:
                    assert response.status == 401
                async with http.post(f"{base}/login", data={"username": "duty01", "password": password,
                                                            "next": "/board"}, allow_redirects=False) as response:
                    assert response.status == 303
                    cookie = response.cookies["fangxun_session"].value
                async with http.get(f"{base}/board", allow_redirects=False) as response:
                    assert response.status == 200  # signed in
                async with http.post(f"{base}/api/warnings", data=rainstorm(), headers={
                        "Authorization": f"Bearer {token}", "Content-Type": "application/cap+xml"}) as response:
                    assert response.status == 201, await response.text()
                async with http.get(f"{base}/api/warnings?token={query_secret}",
                                    headers={"Authorization": f"Bearer {token}"}) as response:
                    assert response.status in (200, 400)

                async def delivered() -> bool:
                    return sum(1 for r in hook.requests if b'"ack_url"' in r.body) >= 6 and len(hook.requests) > 6

                await wait_until(delivered)
                links = sorted({r.json["ack_url"] for r in hook.requests if r.json.get("ack_url")})
                ack_tokens = [link.rsplit("/", 1)[1] for link in links]
                async with http.get(links[0]) as response:
                    assert response.status == 200
                async with http.post(links[0], headers={"Origin": base}) as response:
                    assert response.status == 200
                async with http.post(f"{base}/api/acks/{ack_tokens[1]}") as response:
                    assert response.status == 200
                async with http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}) as response:
                    assert response.status == 200

                async def fed() -> bool:
                    return any(request.query.get("token") == feed_token for request in feed.requests
                               if request.path == "/cap/latest.xml")

                await wait_until(fed)
        assert serve.process.returncode == 0, serve.errors()
    logged = serve.errors() + serve.output()
    lines = json_lines(serve.errors())
    # What happened is all there: sign-ins, the fan-out, the retries of the careless receiver, 叫应, the feed.
    paths = [line.get("path") for line in lines if line["logger"] == "fangxun.access"]
    assert "/login" in paths and "/board" in paths and "/api/warnings" in paths and paths.count("/ack/***") == 2
    assert "/api/acks/***" in paths and "/api/warnings?token=***" in paths and "/metrics" in paths
    assert all(line["request_id"] for line in lines if line["logger"] == "fangxun.access")
    retries = [line for line in lines if "attempt 1 on hook failed (HTTP 500" in line["message"]]
    assert len(retries) == 3 and all(line["channel"] == "hook" and line["notification_id"] for line in retries)
    assert any(line["message"].startswith("warning ") and " accepted: Alert 暴雨 red" in line["message"]
               and line.get("request_id") for line in lines)
    assert sum(1 for line in lines if "acknowledged via" in line["message"]) == 2
    assert any(f"/cap/latest.xml?token=***" in line["message"] for line in lines if line["logger"].endswith("feeds"))
    for secret in (hook_key, hook_secret, feed_token, session_key, password, query_secret, token, cookie,
                   *ack_tokens):
        assert secret not in logged


async def test_dispatch_logs_json_and_answers_on_its_status_port(database_url, tmp_path):
    async with Sink() as hook, Sink() as feed:
        config = write_config(tmp_path, hook.url_for("/hook", key="k" * 24), f"{feed.url}/rss")
        env = {"FANGXUN_DATABASE_URL": database_url, "FANGXUN_CONFIG": str(config),
               "FANGXUN_TEST_HOOK_SECRET": "s" * 24}
        token = editor_token(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        async with Running(tmp_path, "dispatch", "--log-format", "json", "--status-listen", str(port),
                           env=env) as dispatch:
            await dispatch.start("fangxun dispatch 已启动")
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{base}/api/health") as response:
                    assert response.status == 200 and (await response.json())["alive"] is True

                async def ready() -> bool:
                    async with http.get(f"{base}/api/ready") as response:
                        return response.status == 200

                await wait_until(ready, timeout=30)
                async with http.get(f"{base}/api/ready") as response:
                    checks = (await response.json())["checks"]
                assert checks["scheduler"]["ok"] and not checks["scheduler"].get("skipped")
                async with http.get(f"{base}/metrics") as response:
                    assert response.status == 401
                async with http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}) as response:
                    families = {family.name: family for family in
                                text_string_to_metric_families(await response.text())}
                assert families["fangxun_scheduler_running"].samples[0].value == 1
                assert families["fangxun_dispatcher_heartbeat_age_seconds"].samples[0].value < 30
                assert "fangxun_feed_polls" in families and "fangxun_event_loop_lag_seconds" in families
        assert dispatch.process.returncode == 0, dispatch.errors()
    lines = json_lines(dispatch.errors())
    assert any(line["message"].startswith("warning service started (worker") for line in lines)
    assert any(line["logger"] == "fangxun.access" and line["path"] == "/metrics" and line["status"] == 200
               for line in lines)
    assert "k" * 24 not in dispatch.errors() and "s" * 24 not in dispatch.errors() and token not in dispatch.errors()
