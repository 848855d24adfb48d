"""A warning whose issuer named no expiry says so in the message people receive, with the hours assumed."""

from __future__ import annotations

import dataclasses

import pytest
from support.warning_factories import NOON, make_warning, warning_settings

from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.expiry import assume_expiry

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


async def test_an_assumed_expiry_is_said_in_the_message(sessions, config, registry):
    without = dataclasses.replace(make_warning("no-expiry", expires=None), effective=None)
    assumed = assume_expiry(without, config.warnings.lifetime)
    result = await ingest(sessions, assumed, config, NOON)
    texts = [text for _, text in result.warning.messages.values()]
    assert texts and all("至 2026-06-02 09:55（未注明失效时间，按 24 小时计）" in text for text in texts)

    named = await ingest(sessions, make_warning("named-expiry"), config, NOON)
    assert not any("未注明失效时间" in text for _, text in named.warning.messages.values())
