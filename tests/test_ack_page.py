"""叫应 by link: the open mobile page and its 收到 button, the API call, unknown links, caching and guessing."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from support.warning_factories import NOON, add_registry, make_warning, notifications, warning_settings

from fangxun.api.routes_ack import ACK_ATTEMPTS, ACK_FIRST_DELAY_SECONDS
from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification

HOSTILE = '<script>window.__x=1</script>王"五'


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


@pytest.fixture
async def delivered(sessions, config, clock):
    """A red warning delivered to everyone reachable; returns {recipient name: (notification, token)}."""
    async with sessions() as session, session.begin():
        await add_registry(session)
    result = await ingest(sessions, make_warning(description="预计<b>3小时</b>降雨100毫米。"), config, NOON)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                                rng=random.Random(5))
        await dispatcher.run_until_idle()
    async with sessions() as session, session.begin():
        secret = await signing_secret(session)
        rows = await notifications(session, result.warning.id)
    return {row.recipient_name: (row, ack_token(secret, row.idempotency_key)) for row in rows}


def _no_store(response) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def _stored(sessions, notification_id: int) -> Notification:
    async with sessions() as session:
        return await session.get(Notification, notification_id)


async def test_the_page_is_open_and_shows_the_warning_the_name_and_the_button(client, delivered):
    row, token = delivered["甲区区长"]
    response = await client.get(f"/ack/{token}", allow_redirects=False)
    page = await response.text()
    assert response.status == 200, page
    _no_store(response)
    for words in ("【紧急】暴雨红色预警", "郑州市气象台发布暴雨红色预警信号", "甲区区长", "收到", "生效时间", "2026-06-01 09:55",
                  "请于 2026-06-01 10:15 前确认"):
        assert words in page, words
    assert f'<form method="post" action="/ack/{token}">' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "预计&lt;b&gt;3小时&lt;/b&gt;降雨100毫米。" in page   # text from the warning is escaped


async def test_pressing_the_button_records_the_ack_and_shows_the_time(client, sessions, delivered, clock):
    row, token = delivered["甲区区长"]
    clock.advance(minutes=4)
    response = await client.post(f"/ack/{token}", allow_redirects=False)
    page = await response.text()
    assert response.status == 200
    _no_store(response)
    assert "已确认收到" in page and "确认时间：2026-06-01 10:04" in page and "已超过确认时限" not in page
    assert "<form" not in page
    stored = await _stored(sessions, row.id)
    assert (stored.acked_at, stored.acked_via, stored.acked_late) == (clock.now(), "page", False)
    clock.advance(minutes=1)
    again = await (await client.get(f"/ack/{token}")).text()
    assert "您已确认收到" in again and "2026-06-01 10:04" in again   # the first time stays
    assert (await _stored(sessions, row.id)).acked_at == stored.acked_at


async def test_the_api_call_acknowledges_and_says_when_it_was_late(client, sessions, delivered, clock):
    row, token = delivered["乙区区长"]
    clock.advance(minutes=20)   # the red deadline is 15 minutes after delivery
    response = await client.post(f"/api/acks/{token}")
    body = await response.json()
    assert response.status == 200, body
    assert response.headers["Cache-Control"] == "no-store"
    assert body["acknowledged"] is True and body["acked_via"] == "api" and body["acked_late"] is True
    assert body["notification_id"] == row.id and body["recipient_name"] == "乙区区长"
    assert body["warning_status"] == "active"
    assert (await _stored(sessions, row.id)).acked_via == "api"
    page = await (await client.get(f"/ack/{token}")).text()
    assert "已超过确认时限" in page


@pytest.mark.parametrize("token", ["AAAAAAAAAAAAAAAA", "short", "AAAAAAAAAAAAAAA%3C", "x" * 300])
async def test_an_unknown_link_is_a_404_that_tells_nothing(client, delivered, token):
    response = await client.get(f"/ack/{token}")
    page = await response.text()
    assert response.status == 404
    _no_store(response)
    assert "确认链接无效或已过期" in page
    for secret in ("暴雨", "甲区", "区长", "<form"):
        assert secret not in page
    posted = await client.post(f"/ack/{token}")
    assert posted.status == 404 and "<form" not in await posted.text()
    api = await client.post(f"/api/acks/{token}")
    assert api.status == 404 and (await api.json()) == {"error": "not_found", "detail": "确认链接无效或已过期"}


async def test_values_from_the_database_are_escaped(client, sessions, delivered):
    row, token = delivered["东村支书"]
    async with sessions() as session, session.begin():
        await session.execute(update(Notification).where(Notification.id == row.id).values(recipient_name=HOSTILE))
    page = await (await client.get(f"/ack/{token}")).text()
    assert "<script" not in page
    # Jinja2 writes a double quote as &#34; (the same character as &quot;)
    assert "&lt;script&gt;window.__x=1&lt;/script&gt;王&#34;五" in page


async def test_guessing_is_throttled_per_address_and_right_links_are_never_refused(client, delivered, clock):
    _, token = delivered["甲区副区长"]
    for _ in range(ACK_ATTEMPTS * 2):   # right links never count
        assert (await client.get(f"/ack/{token}")).status == 200
    for attempt in range(ACK_ATTEMPTS):
        assert (await client.get(f"/ack/{attempt:02d}{'B' * 14}")).status == 404
    throttled = await client.get(f"/ack/{'C' * 16}")
    assert throttled.status == 429 and int(throttled.headers["Retry-After"]) == ACK_FIRST_DELAY_SECONDS
    _no_store(throttled)
    assert f"尝试次数过多，请在 {ACK_FIRST_DELAY_SECONDS} 秒后再试" in await throttled.text()
    api = await client.post(f"/api/acks/{'D' * 16}")
    assert api.status == 429 and (await api.json())["error"] == "too_many_requests"
    # While the address's wrong links wait, a right link from it still goes through.
    response = await client.post(f"/ack/{token}")
    assert response.status == 200 and re.search("已确认收到", await response.text())
    clock.advance(seconds=ACK_FIRST_DELAY_SECONDS)
    assert (await client.get(f"/ack/{'C' * 16}")).status == 404


async def test_a_person_is_told_what_they_answer_for_and_a_department_is_not(client, delivered):
    _, token = delivered["东村支书"]
    page = await (await client.get(f"/ack/{token}")).text()
    assert "致：<b>东村支书</b>" in page
    assert "您是 东村 防汛责任人（《410102002001flood_plan》）" in page
    _, deputy = delivered["二号镇副镇长"]
    assert "您是 二号镇 防汛副责任人" in await (await client.get(f"/ack/{deputy}")).text()
    _, desk = delivered["市水利局（市水利局值班室）"]
    assert "您是" not in await (await client.get(f"/ack/{desk}")).text()


async def test_the_page_of_an_all_clear_asks_for_no_deadline(client, sessions, config, clock, delivered):
    cancel = make_warning("zz-x", msg_type="Cancel", references=(make_warning(),), geocodes=(),
                          sent=NOON + timedelta(minutes=5))
    result = await ingest(sessions, cancel, config, clock.now())
    async with new_http_session(config.warnings.channels) as http:
        await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                         rng=random.Random(5)).run_until_idle()
    async with sessions() as session:
        secret = await signing_secret(session)
        row, = [row for row in await notifications(session, result.warning.id) if row.recipient_name == "东村支书"]
    page = await (await client.get(f"/ack/{ack_token(secret, row.idempotency_key)}")).text()
    assert "【解除】郑州市气象台解除暴雨红色预警信号" in page and "您是 东村 防汛责任人" in page
    assert "本条为解除通知，仅作告知，无需叫应。" in page
    assert "逾期将逐级上报" not in page and "前确认" not in page
