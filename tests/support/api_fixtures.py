"""Fixtures of the web application tests: a clock tests can move, the test client, tokens, a user, plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from support.tree import add_units

from fangxun.api.app import create_app
from fangxun.core.accounts import create_token, create_user
from fangxun.core.clock import Clock

# 10:00 in Shanghai on the suite's TODAY (2026-06-01).
START = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
PASSWORD = "correct-horse-battery"
CSRF = {"X-Requested-With": "fangxun"}


@dataclass(frozen=True)
class MovableClock(Clock):
    """A fixed clock that `advance` moves forward."""

    moved: list = field(default_factory=lambda: [timedelta(0)])

    def now(self) -> datetime:
        return super().now() + self.moved[0]

    def advance(self, **delta) -> None:
        self.moved[0] += timedelta(**delta)


def bearer(token: str) -> dict:
    """The Authorization header of `token`."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def clock():
    """A clock standing at 2026-06-01 10:00 Asia/Shanghai."""
    return MovableClock(fixed=START)


@pytest.fixture
def config(settings):
    """The settings the application runs with: the packaged defaults unless a test module overrides this."""
    return settings


@pytest.fixture
async def client(aiohttp_client, engine, config, clock):
    """A test client of the application on the test database, running with `config`."""
    return await aiohttp_client(create_app(engine, config, clock))


@pytest.fixture
async def tokens(sessions):
    """One API token per role."""
    async with sessions() as session, session.begin():
        return {role: await create_token(session, role, label=f"{role}-token")
                for role in ("viewer", "editor", "admin")}


@pytest.fixture
async def units(sessions):
    """The small hand-made tree of support.tree."""
    async with sessions() as session, session.begin():
        return await add_units(session)


@pytest.fixture
async def user(sessions):
    """An editor who signs in to the pages as `duty01` (one argon2id hash: create few of these)."""
    async with sessions() as session, session.begin():
        await create_user(session, "duty01", PASSWORD, "editor")
    return "duty01"


async def sign_in(client, username: str, password: str, next_path: str = "/", headers: dict | None = None):
    """Post the sign-in form without following the redirect."""
    return await client.post("/login", data={"username": username, "password": password, "next": next_path},
                             allow_redirects=False, headers=headers)


def record_password_work(app) -> list[str]:
    """Names of the functions the app hands to its password thread pool from now on (what ran off the loop)."""
    from fangxun.api.keys import PASSWORD_EXECUTOR

    executor, names = app[PASSWORD_EXECUTOR], []
    submit = executor.submit

    def recording_submit(fn, /, *args, **kwargs):
        names.append(getattr(fn, "__name__", repr(fn)))
        return submit(fn, *args, **kwargs)

    executor.submit = recording_submit
    return names
