"""Fixtures: every database test runs on a real SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

# Test helpers live in tests/support/ and are imported as `support.<module>`.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fangxun.db import create_engine, session_factory  # noqa: E402
from fangxun.migrate import upgrade  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402
from support.databases import PG_URL  # noqa: E402

pytest_plugins = ("support.api_fixtures",)

TODAY = date(2026, 6, 1)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request, tmp_path):
    """A migrated, empty database: a fresh SQLite file, or a fresh schema on PostgreSQL."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path}/fangxun-test.db")
        await upgrade(engine)
        yield engine
        await engine.dispose()
        return
    schema = f"fx_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def sessions(engine):
    """The session factory of the test database."""
    return session_factory(engine)


@pytest.fixture
def settings():
    """The packaged default settings."""
    return load_settings()


@pytest.fixture
def today():
    """A fixed 'today' for anything with a clock."""
    return TODAY
