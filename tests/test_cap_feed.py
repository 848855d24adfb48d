"""CAP out: the Atom feed of the warnings held and each warning's document, read back with strict parse_cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from support.api_fixtures import PASSWORD, bearer, sign_in
from support.warning_api import lenient_only, manual_form, post_cap, zz
from support.warning_factories import NOON, make_warning, warning_settings

from fangxun.api.app import create_app
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.cap_parse import parse_cap
from fangxun.warnings.intake.feeds import listing_items
from fangxun.warnings.intake.lifecycle import close_expired

ATOM = "{http://www.w3.org/2005/Atom}"
HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


async def _held(client, sessions, config, tokens) -> dict[str, int]:
    """A posted CAP warning, a hand-entered one, a lenient one, one closed yesterday and one closed long ago."""
    editor = tokens["editor"]
    ids = {"cap": (await (await post_cap(client, zz(), editor)).json())["warning_id"],
           "manual": (await (await client.post("/api/warnings", json=manual_form(), headers=bearer(editor))).json())
           ["warning_id"],
           "lenient": (await (await post_cap(client, lenient_only(), editor, lenient="1")).json())["warning_id"]}
    for name, closed_days_ago in (("yesterday", 1), ("long_ago", 10)):
        start = NOON - timedelta(days=closed_days_ago, hours=6)
        result = await ingest(sessions, make_warning(name, sent=start, expires=start + timedelta(hours=6)), config,
                              start)
        async with sessions() as session, session.begin():
            await close_expired(session, start + timedelta(hours=6))
        ids[name] = result.warning.id
    return ids


async def test_the_feed_and_every_document_validate_and_read_back(client, sessions, config, tokens, registry):
    ids = await _held(client, sessions, config, tokens)
    viewer = bearer(tokens["viewer"])
    response = await client.get("/cap/feed.xml", headers=viewer)
    body = await response.read()
    assert response.status == 200 and response.content_type == "application/atom+xml"
    feed = etree.fromstring(body)
    # The links of messages and the feed share one base: here the configured address (not the request's Host).
    origin = "http://127.0.0.1:8080"
    assert feed.findtext(f"{ATOM}id") == f"{origin}/cap/feed.xml"
    links = [entry.find(f"{ATOM}link").get("href") for entry in feed.findall(f"{ATOM}entry")]
    expected = [ids[name] for name in ("yesterday", "lenient", "manual", "cap")]
    assert sorted(links) == sorted(f"{origin}/cap/{i}.xml" for i in expected)   # the long-closed one is out
    for item in listing_items(body, f"{origin}/cap/feed.xml"):
        assert parse_cap(item.inline).identifier   # each embedded <alert> validates
    documents = {}
    for link in links:
        document = await client.get(link.removeprefix(origin), headers=viewer)
        assert document.status == 200 and document.content_type == "application/cap+xml"
        documents[int(link.rsplit("/", 1)[1].removesuffix(".xml"))] = await document.read()
    warnings = {key: parse_cap(data) for key, data in documents.items()}   # strict: each validates
    # The posted document is served as it came; the others are written from the normalised warning.
    assert documents[ids["cap"]] == zz()
    assert warnings[ids["manual"]].sender == "duty@fangxun" and warnings[ids["manual"]].colour == "red"
    lenient = warnings[ids["lenient"]]
    assert (lenient.identifier, lenient.colour, lenient.urgency) == ("T-1", "orange", "Unknown")
    # Older messages are still served one by one.
    assert parse_cap(await (await client.get(f"/cap/{ids['long_ago']}.xml", headers=viewer)).read())
    wider = await (await client.get("/cap/feed.xml", params={"days": "30"}, headers=viewer)).read()
    assert len(etree.fromstring(wider).findall(f"{ATOM}entry")) == 5


async def test_the_feed_needs_a_token_or_a_session(client, tokens, user, registry):
    for path in ("/cap/feed.xml", "/cap/1.xml"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    assert (await client.get("/cap/feed.xml", headers=bearer("fx_wrong"))).status == 401
    await sign_in(client, user, PASSWORD)
    response = await client.get("/cap/feed.xml")
    assert response.status == 200 and etree.fromstring(await response.read()).tag == f"{ATOM}feed"
    assert (await client.get("/cap/424242.xml")).status == 404


async def test_the_feed_uses_the_public_url_when_one_is_configured(aiohttp_client, engine, config, clock, tokens):
    server = config.server.model_copy(update={"public_url": "https://fangxun.example.gov.cn"})
    client = await aiohttp_client(create_app(engine, config.model_copy(update={"server": server}), clock))
    await post_cap(client, zz(), tokens["editor"])
    feed = etree.fromstring(await (await client.get("/cap/feed.xml", headers=bearer(tokens["viewer"]))).read())
    assert feed.findtext(f"{ATOM}id") == "https://fangxun.example.gov.cn/cap/feed.xml"
    assert feed.find(f"{ATOM}entry/{ATOM}link").get("href").startswith("https://fangxun.example.gov.cn/cap/")
