"""The demo registry on a fresh database with one user and a red 暴雨 warning over 金水区, for the page tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from support.api_fixtures import PASSWORD, START
from support.warning_factories import make_warning

from fangxun.core.accounts import create_user
from fangxun.core.db import session_factory
from fangxun.core.migrate import upgrade
from fangxun.demo.registry import load_demo
from fangxun.settings import load_settings
from fangxun.warnings.intake.accept import ingest

JINSHUI = "410105"


async def demo_with_red_warning(engine, user: str, role: str, issued: datetime, identifier: str):
    """Migrate, load the demo, add `user` with `role` and ingest the warning issued at `issued`; the intake result."""
    await upgrade(engine)
    settings = load_settings()
    async with session_factory(engine)() as session, session.begin():
        await load_demo(session, settings, START.date())
        await create_user(session, user, PASSWORD, role)
    warning = make_warning(identifier, geocodes=(JINSHUI,), sent=issued, expires=START + timedelta(hours=6),
                           area_description="金水区")
    return await ingest(session_factory(engine), warning, settings, issued)
