"""kill -9 of the service between its call requests and their results loses nothing: the calls were on disk
before the requests went out, the gateway's results are taken after the restart and still acknowledge, and
the requests repeated by the restarted service are the same calls (nobody is dialled twice)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select
from support.sinks import Sink
from support.voice_gateway import SECRET, SECRET_ENV, VoiceGateway, free_port, voice_settings
from support.waiting import wait_until
from support.warning_factories import add_registry, make_warning, notifications, search_path

from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import CallAttempt

CHILD = Path(__file__).resolve().parent / "support" / "voice_child.py"
LEASE_SECONDS = 2.0


async def spawn(engine, hook_url: str, gateway_url: str, port: int, worker: str) -> asyncio.subprocess.Process:
    path = await search_path(engine) or "-"
    url = engine.url.render_as_string(hide_password=False)
    url = url.replace("sqlite+aiosqlite", "sqlite").replace("postgresql+asyncpg", "postgresql")
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(CHILD), url, path, hook_url, gateway_url, str(port), worker, str(LEASE_SECONDS),
        stdout=asyncio.subprocess.PIPE, env={**os.environ, SECRET_ENV: SECRET})
    assert (await asyncio.wait_for(child.stdout.readline(), 30)).strip() == b"ready"
    return child


async def voice_rows(sessions):
    async with sessions() as session:
        return [row for row in await notifications(session, channel="voice") if row.status != "failed"]


async def calls(sessions) -> list[CallAttempt]:
    async with sessions() as session:
        return list((await session.execute(select(CallAttempt).order_by(CallAttempt.id))).scalars())


async def test_kill_9_between_the_call_requests_and_their_results_loses_nothing(engine, sessions, settings):
    async with Sink() as hook, VoiceGateway(hold=True) as gateway:
        port = free_port()
        config = voice_settings(settings, hook.url_for("/hook"), gateway.url, public_url=f"http://127.0.0.1:{port}")
        async with sessions() as session, session.begin():
            await add_registry(session)
        now = datetime.now(timezone.utc)
        await ingest(sessions, make_warning(sent=now - timedelta(minutes=1), expires=now + timedelta(hours=6)),
                     config, now)
        people = len(await voice_rows(sessions))
        assert people >= 5
        # The gateway takes every call at once but its answers are slow: the service dies waiting for them.
        gateway.script("slow", times=people, delay=30)
        first = await spawn(engine, hook.url_for("/hook"), gateway.url, port, "first")

        async def all_placed():
            return len(gateway.placed) == people

        await wait_until(all_placed)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        before = await calls(sessions)
        assert len(before) == people and {call.status for call in before} == {"requested"}
        assert {call.accepted_at for call in before} == {None}  # the answers never arrived
        assert {call.call_id for call in before} == set(gateway.placed)

        # Half the results come while the service is down (refused, retried until it is back); the other half
        # only once the restarted service has asked for those calls again.
        early, late = sorted(gateway.held)[:people // 2], sorted(gateway.held)[people // 2:]
        reporting = asyncio.create_task(gateway.release(*early, retry_for=90))

        async def tried_while_down():
            return any(callback.unreachable for callback in gateway.callbacks)

        await wait_until(tried_while_down)
        second = await spawn(engine, hook.url_for("/hook"), gateway.url, port, "second")
        await asyncio.wait_for(reporting, 120)

        async def settled():
            return {row.status for row in await voice_rows(sessions)} == {"delivered"}

        await wait_until(settled)
        assert all(len(gateway.requests_of(call)) >= 2 for call in late)  # asked again, under the same id
        await gateway.release(*late)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    assert all(callback.responses[-1] == 200 for callback in gateway.callbacks) and len(gateway.callbacks) == people
    assert any(callback.unreachable for callback in gateway.callbacks)
    after = await calls(sessions)
    # One call per person, each dialled once: whatever the restarted service asked again had the same call id.
    assert len(after) == people and {call.status for call in after} == {"answered"}
    assert {request.call_id for request in gateway.requests} == set(gateway.placed) == {c.call_id for c in after}
    rows = await voice_rows(sessions)
    assert {(row.acked_via, row.acked_at is not None) for row in rows} == {("voice", True)}
