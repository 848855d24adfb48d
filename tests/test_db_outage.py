"""While the database cannot be reached, writes and reads answer 503 with Retry-After (a sender can tell "retry"
from "rejected"), nothing half-written; the service answers again once the database is back. PostgreSQL is cut off
through a relay (never stopped: others share the server); SQLite's file is made unusable."""

from __future__ import annotations

import shutil
import socket

import pytest
from sqlalchemy import func, make_url, select
from support.api_fixtures import CSRF, PASSWORD, bearer, sign_in
from support.databases import PG_URL, migrated_engine
from support.tcp_proxy import TcpProxy
from support.warning_api import manual_form
from support.warning_factories import add_registry, search_path, warning_settings

from fangxun.api.app import create_app
from fangxun.api.cookies import COOKIE_NAME, sign_session
from fangxun.core.accounts import create_token, create_user
from fangxun.core.db import create_engine, session_factory
from fangxun.core.db_outage import RETRY_AFTER_SECONDS
from fangxun.warnings.tables import Warning


@pytest.fixture
def config(settings):
    return warning_settings(settings, "http://127.0.0.1:9/hook")


async def _prepare(engine) -> str:
    """A registry, an editor token and the page user duty01 in the database of `engine`; the token."""
    async with session_factory(engine)() as session, session.begin():
        await add_registry(session)
        await create_user(session, "duty01", PASSWORD, "editor")
        return await create_token(session, "editor", label="editor-token")


async def _warnings(engine) -> int:
    async with session_factory(engine)() as session:
        return (await session.execute(select(func.count()).select_from(Warning))).scalar_one()


def _form(number: int) -> dict:
    return manual_form(headline=f"第 {number} 次录入的暴雨红色预警")


async def assert_unavailable(client, token: str, number: int) -> None:
    """Every kind of request answers 503 with Retry-After: API writes and reads, a page, its form, sign-in."""
    for response in (await client.post("/api/warnings", json=_form(number), headers=bearer(token)),
                     await client.post("/api/events", json={"kind": "rainfall"}, headers=bearer(token)),
                     await client.get("/api/warnings", headers=bearer(token)),
                     await client.post("/api/events", json={"kind": "rainfall"}, headers=CSRF)):
        body = await response.json()
        assert response.status == 503, body
        assert body["error"] == "database_unreachable" and body["retry_after"] == RETRY_AFTER_SECONDS, body
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "稍后重试" in body["detail"]
    for response in (await client.get("/", allow_redirects=False),
                     await sign_in(client, "duty01", PASSWORD)):
        assert response.status == 503 and response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "稍后重试" in await response.text()


async def assert_back(client, token: str, number: int) -> None:
    """Once the database answers again, so does the service (the pool's dead connections are not reused)."""
    for _ in range(3):
        response = await client.post("/api/warnings", json=_form(number), headers=bearer(token))
        if response.status != 503:
            break
    assert response.status == 201, await response.text()
    assert (await client.get("/api/warnings", headers=bearer(token))).status == 200


async def test_postgresql_cut_off_mid_run_answers_503_then_recovers(aiohttp_client, tmp_path, config, clock, caplog):
    async with migrated_engine("postgresql", tmp_path) as direct:
        token = await _prepare(direct)
        proxy = await TcpProxy(make_url(PG_URL).host, make_url(PG_URL).port or 5432).start()
        url = make_url(PG_URL).set(port=proxy.port).render_as_string(hide_password=False)
        engine = create_engine(url, connect_args={"server_settings": {"search_path": await search_path(direct)}})
        try:
            client = await aiohttp_client(create_app(engine, config, clock))
            assert (await sign_in(client, "duty01", PASSWORD)).status == 303
            assert (await client.post("/api/warnings", json=_form(1), headers=bearer(token))).status == 201

            await proxy.cut()
            await assert_unavailable(client, token, 2)
            assert await _warnings(direct) == 1   # nothing half-written

            await proxy.start()
            await assert_back(client, token, 3)
            assert await _warnings(direct) == 2
        finally:
            await proxy.cut()
            await engine.dispose()
    # An outage is no fault of ours: no "unexpected error" with a traceback in the log.
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_postgresql_port_where_nothing_listens_answers_503(aiohttp_client, config, clock, monkeypatch):
    monkeypatch.setenv("FANGXUN_SECRET_KEY", "test-only-key")   # start-up then needs no database
    dead = create_engine(f"postgresql://postgres@127.0.0.1:{_closed_port()}/test")
    try:
        client = await aiohttp_client(create_app(dead, config, clock))
        # A well-signed cookie: only the database could say whether its session is open.
        cookie = sign_session(b"test-only-key", "duty01", "a-session-token", clock.now(), 12)
        client.session.cookie_jar.update_cookies({COOKIE_NAME: cookie})
        await assert_unavailable(client, "fx_any-token", 1)
    finally:
        await dead.dispose()


@pytest.mark.parametrize("damage", ["not a database", "a directory"])
async def test_an_unusable_sqlite_file_answers_503_then_recovers(aiohttp_client, tmp_path, config, clock, damage):
    async with migrated_engine("sqlite", tmp_path) as engine:
        token = await _prepare(engine)
        client = await aiohttp_client(create_app(engine, config, clock))
        assert (await sign_in(client, "duty01", PASSWORD)).status == 303
        assert (await client.post("/api/warnings", json=_form(1), headers=bearer(token))).status == 201

        path = make_url(str(engine.url)).database
        await engine.dispose()   # the open connections would keep the old file
        shutil.move(path, f"{path}.kept")
        if damage == "a directory":
            tmp_path.joinpath(path).mkdir()
        else:
            with open(path, "wb") as file:
                file.write(b"this is not SQLite" * 512)
        await assert_unavailable(client, token, 2)

        await engine.dispose()
        if damage == "a directory":
            tmp_path.joinpath(path).rmdir()
        shutil.move(f"{path}.kept", path)
        await assert_back(client, token, 3)
        assert await _warnings(engine) == 2
