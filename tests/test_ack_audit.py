"""叫应 is audited: who (the recipient), which notification, which way; once per answer, and never with its token."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select
from support.api_fixtures import bearer
from support.warning_factories import NOON, add_registry, make_warning, notifications, warning_settings

from fangxun.core.accounts import signing_secret
from fangxun.core.audit import AuditRecord
from fangxun.warnings.acks.tokens import ack_token, token_hash
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


async def test_an_acknowledgement_is_audited_once_without_its_token(client, sessions, config, clock, tokens):
    async with sessions() as session, session.begin():
        await add_registry(session)
    result = await ingest(sessions, make_warning(), config, NOON)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                                rng=random.Random(5))
        await dispatcher.run_until_idle()
    async with sessions() as session:
        secret = await signing_secret(session)
        row = next(r for r in await notifications(session, result.warning.id) if r.recipient_name == "甲区区长")
    token = ack_token(secret, row.idempotency_key)

    for _ in range(2):  # the second answer changes nothing and is not audited again
        response = await client.post(f"/api/acks/{token}")
        assert response.status == 200, await response.text()
    response = await client.get("/api/audit", params={"target_type": "notification", "target_id": str(row.id)},
                                headers=bearer(tokens["admin"]))
    [item] = (await response.json())["items"]
    assert item["action"] == "notification.ack" and item["actor"] == f"recipient:{row.recipient_key}"
    assert item["after"] == {"via": "api", "warning_id": result.warning.id, "recipient": "甲区区长",
                             "channel": row.channel, "late": False}
    async with sessions() as session:
        rows = (await session.execute(select(AuditRecord))).scalars().all()
    stored = json.dumps([[r.actor, r.action, r.target_id, r.before, r.after] for r in rows], ensure_ascii=False)
    assert token not in stored and token_hash(token) not in stored
