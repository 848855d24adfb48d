"""The service's log as JSON lines: an access line per request with its id (also in X-Request-Id), the lines a
request causes carrying that id and the warning or notification they are about, the dispatcher's lines carrying
the notification, warning and channel; no 叫应 token in any of them. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re

import pytest
from aiohttp.test_utils import TestServer
from support.api_fixtures import bearer
from support.log_capture import captured_log
from support.waiting import wait_until
from support.warning_factories import NOON, add_registry, make_warning, notifications, warning_settings

from fangxun.api.access_log import access_log_options
from fangxun.api.app import create_app
from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest

MANUAL = {"event": "暴雨", "colour": "红", "areas": {"unit_codes": ["410102000000"], "description": "甲区"},
          "onset": "2026-06-01T10:00:00+08:00", "expires": "2026-06-01T16:00:00+08:00",
          "description": "甲区未来3小时降雨量将达100毫米以上。"}


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


@pytest.fixture
async def logged(aiohttp_client, engine, config, clock):
    """A client of the application served with the access log on, and the JSON log captured."""
    with captured_log("json") as log:
        server = TestServer(create_app(engine, config, clock))
        await server.start_server(**access_log_options())  # (aiohttp_client's server_kwargs miss the runner)
        yield await aiohttp_client(server), log


def access_line(log, request_id: str) -> dict | None:
    return next((line for line in log.lines() if line["logger"] == "fangxun.access"
                 and line.get("request_id") == request_id), None)


async def logged_access(log, request_id: str) -> dict:
    """The access line of a request (written just after its answer went out)."""
    async def written() -> bool:
        return access_line(log, request_id) is not None

    await wait_until(written, timeout=10, every=0.02)
    return access_line(log, request_id)


async def test_a_posted_warning_is_logged_under_the_request_id(logged, sessions, tokens):
    client, log = logged
    async with sessions() as session, session.begin():
        await add_registry(session)
    response = await client.post("/api/warnings", json=MANUAL, headers=bearer(tokens["editor"]))
    assert response.status == 201, await response.text()
    request_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    warning_id = (await response.json())["warning_id"]
    access = await logged_access(log, request_id)
    assert (access["method"], access["path"], access["status"], access["remote"]) == (
        "POST", "/api/warnings", 201, "127.0.0.1")
    assert access["bytes"] > 0 and access["duration_ms"] >= 0 and access["level"] == "INFO"
    accepted = [line for line in log.lines() if line["message"].startswith(f"warning {warning_id} accepted")]
    assert len(accepted) == 1
    assert (accepted[0]["request_id"], accepted[0]["warning_id"]) == (request_id, warning_id)
    assert tokens["editor"] not in log.text()


async def test_a_proxy_request_id_is_kept_and_a_malformed_one_replaced(logged):
    client, log = logged
    kept = await client.get("/api/health", headers={"X-Request-Id": "nginx-5f0c2a9e1b7d4c3a"})
    assert kept.headers["X-Request-Id"] == "nginx-5f0c2a9e1b7d4c3a"
    assert (await logged_access(log, "nginx-5f0c2a9e1b7d4c3a"))["path"] == "/api/health"
    replaced = await client.get("/api/nothing-here", headers={"X-Request-Id": "x" * 65})
    assert replaced.status == 401 and re.fullmatch(r"[0-9a-f]{16}", replaced.headers["X-Request-Id"])
    assert (await logged_access(log, replaced.headers["X-Request-Id"]))["status"] == 401
    assert "x" * 65 not in log.text()


async def test_an_ack_is_logged_with_its_notification_and_its_token_masked(logged, sessions, config, clock):
    client, log = logged
    async with sessions() as session, session.begin():
        await add_registry(session)
    result = await ingest(sessions, make_warning(), config, NOON)
    async with new_http_session(config.warnings.channels) as http:
        await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                         rng=random.Random(3)).run_until_idle()
    async with sessions() as session:
        secret = await signing_secret(session)
        row = (await notifications(session, result.warning.id, status="delivered"))[0]
    token = ack_token(secret, row.idempotency_key)
    response = await client.post(f"/ack/{token}")
    assert response.status == 200
    request_id = response.headers["X-Request-Id"]
    assert (await logged_access(log, request_id))["path"] == "/ack/***"
    acked = [line for line in log.lines() if line["message"] == f"notification {row.id} acknowledged via page"]
    assert len(acked) == 1
    assert (acked[0]["request_id"], acked[0]["notification_id"], acked[0]["warning_id"]) == (
        request_id, row.id, result.warning.id)
    assert token not in log.text()


async def test_the_dispatcher_logs_a_failed_attempt_with_its_notification_warning_and_channel(
        sessions, config, registry, sink, clock):
    sink.script(500, times=50)
    result = await ingest(sessions, make_warning(), config, NOON)
    with captured_log("json") as log:
        async with new_http_session(config.warnings.channels) as http:
            await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                             rng=random.Random(3)).run_until_idle()
    failed = [line for line in log.lines() if "attempt 1 on hook failed" in line["message"]]
    async with sessions() as session:
        pending = {row.id for row in await notifications(session, result.warning.id, status="pending")}
    assert pending and {line["notification_id"] for line in failed} == pending
    assert all(line["warning_id"] == result.warning.id and line["channel"] == "hook" and "HTTP 500" in
               line["message"] and line["level"] == "INFO" for line in failed)
