"""Fixtures: every database test runs on a real SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

# Test helpers live in tests/support/ and are imported as `support.<module>`.
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The browser helpers assert on pages: keep pytest's detailed assertion messages there.
pytest.register_assert_rewrite("support.browser")

from support.databases import migrated_engine  # noqa: E402

from fangxun.core.db import session_factory  # noqa: E402
from fangxun.settings import load_settings  # noqa: E402

pytest_plugins = ("support.api_fixtures", "support.warning_factories")

TODAY = date(2026, 6, 1)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request, tmp_path):
    """A migrated, empty database: a fresh SQLite file, or a fresh schema on PostgreSQL."""
    async with migrated_engine(request.param, tmp_path) as engine:
        yield engine


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
