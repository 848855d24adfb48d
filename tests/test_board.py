"""The duty board: the signed-in page (our own script, strict CSP) and its JSON."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from support.api_fixtures import PASSWORD, bearer, sign_in
from support.warning_factories import NOON, add_registry, make_warning, notifications, warning_settings

from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.lifecycle import close_expired


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


async def test_the_board_page_needs_a_sign_in_and_loads_only_our_own_script(client, user):
    response = await client.get("/board", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login?next=/board"
    await sign_in(client, user, PASSWORD)
    response = await client.get("/board")
    page = await response.text()
    assert response.status == 200
    assert '<script src="/static/board/board.js" defer></script>' in page
    assert 'href="/static/board/board.css"' in page and 'data-poll-ms="5000"' in page
    assert "值班看板" in page and "duty01" in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self'" in policy and "unsafe" not in policy
    assert "http://" not in page and "https://" not in page
    for path, kind in (("/static/board/board.js", "javascript"), ("/static/board/board.css", "text/css")):
        asset = await client.get(path)
        assert asset.status == 200 and kind in asset.headers["Content-Type"]


async def test_the_board_json_lists_warnings_with_the_most_urgent_recipients_first(client, sessions, config, clock,
                                                                                   tokens):
    async with sessions() as session, session.begin():
        await add_registry(session)
    assert (await client.get("/api/board")).status == 401
    # An old warning closed two days ago is not on the board; one closed an hour ago is.
    old = await ingest(sessions, make_warning("old", sent=NOON - timedelta(days=3),
                                              expires=NOON - timedelta(days=2)), config, NOON - timedelta(days=3))
    async with sessions() as session, session.begin():
        await close_expired(session, NOON - timedelta(days=2))
    recent = await ingest(sessions, make_warning("recent", colour="blue", event="大风",
                                                 sent=NOON - timedelta(hours=3), expires=NOON - timedelta(hours=1)),
                          config, NOON - timedelta(hours=3))
    async with sessions() as session, session.begin():
        await close_expired(session, NOON - timedelta(hours=1))
    red = await ingest(sessions, make_warning("red"), config, NOON)
    async with new_http_session(config.warnings.channels) as http:
        await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                         rng=random.Random(2)).run_until_idle()
    async with sessions() as session, session.begin():
        secret = await signing_secret(session)
        rows = {row.recipient_name: row for row in await notifications(session, red.warning.id)}
        await acknowledge(session, ack_token(secret, rows["东村支书"].idempotency_key), clock.now(), "page")
    clock.advance(minutes=16)

    response = await client.get("/api/board", headers=bearer(tokens["viewer"]))
    data = await response.json()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    ids = [warning["id"] for warning in data["warnings"]]
    assert ids == [red.warning.id, recent.warning.id] and old.warning.id not in ids
    board = data["warnings"][0]
    assert board["status"] == "active" and board["colour_label"] == "红色"
    counts = board["counts"]
    assert counts["total"] == 12 and counts["acknowledged"] == 1 and counts["failed"] == 1
    assert counts["delivered"] == 10 and counts["overdue"] == 10
    states = [(r["overdue"], r["state"]) for r in board["recipients"]]
    assert states[:10] == [(True, "delivered")] * 10
    assert states[10:] == [(False, "failed"), (False, "acknowledged")]
    assert board["recipients_shown"] == 12
    assert all("address" not in r for r in board["recipients"])
    assert data["warnings"][1]["status"] == "expired" and data["warnings"][1]["counts"]["total"] == 1  # 大风 goes to 市应急管理局 only
    assert data["state_labels"]["acknowledged"] == "已确认"
    # A wider window brings the old one back.
    wide = await (await client.get("/api/board", params={"hours": "72"}, headers=bearer(tokens["viewer"]))).json()
    assert old.warning.id in [warning["id"] for warning in wide["warnings"]]
