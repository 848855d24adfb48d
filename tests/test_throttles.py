"""Throttles that cannot be turned against the service: a stranger failing from another address never locks the
duty account nor blocks a right 叫应 link; a name and address that keep failing wait longer and are told when to
retry, in Chinese; forwarded addresses count only when a configured proxy sends them."""

from __future__ import annotations

import pytest
from support.api_fixtures import PASSWORD, sign_in
from support.warning_factories import NOON, add_registry, make_warning, notifications, warning_settings

from fangxun.api.app import create_app
from fangxun.api.routes_ack import ACK_ATTEMPTS, PREFIX_ATTEMPTS, PREFIX_LENGTH
from fangxun.core.accounts import signing_secret
from fangxun.core.service_settings import AuthSettings
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.intake.accept import ingest

HOOK = "http://127.0.0.1:9/hook"   # nothing is dispatched: the links exist from the moment of intake
STRANGER, OFFICE = "198.51.100.7", "203.0.113.9"
AUTH = AuthSettings(login_free_failures=3, login_first_delay_seconds=5, login_max_delay_seconds=40,
                    address_free_failures=10, address_max_delay_seconds=600)


def _configured(settings, trusted: tuple[str, ...]):
    server = settings.server.model_copy(update={"trusted_proxies": trusted})
    return warning_settings(settings, HOOK).model_copy(update={"auth": AUTH, "server": server})


@pytest.fixture
async def behind_proxy(aiohttp_client, engine, settings, clock):
    """The service behind a reverse proxy on 127.0.0.1, which says who the client is in X-Forwarded-For."""
    return await aiohttp_client(create_app(engine, _configured(settings, ("127.0.0.1",)), clock))


@pytest.fixture
async def exposed(aiohttp_client, engine, settings, clock):
    """The service reached directly (no trusted proxy): every test request comes from 127.0.0.1."""
    return await aiohttp_client(create_app(engine, _configured(settings, ()), clock))


@pytest.fixture
async def links(sessions, settings):
    """The 叫应 links of a red warning over the test city, by recipient name."""
    config = warning_settings(settings, HOOK)
    async with sessions() as session, session.begin():
        await add_registry(session)
    result = await ingest(sessions, make_warning(), config, NOON)
    async with sessions() as session:
        secret = await signing_secret(session)
        rows = await notifications(session, result.warning.id)
    return {row.recipient_name: ack_token(secret, row.idempotency_key) for row in rows}


def _from(address: str) -> dict:
    return {"X-Forwarded-For": address}


def _wrong(number: int, prefix: str = "") -> str:
    """A well-formed token no notification has; without a prefix each number starts differently."""
    return (prefix + f"{number:08d}" + "x" * 16)[:16]


async def test_a_stranger_failing_50_times_locks_neither_the_duty_account_nor_the_links(behind_proxy, user, links):
    client = behind_proxy
    answers = [(await sign_in(client, user, f"guess-{n}", headers=_from(STRANGER))).status for n in range(50)]
    assert answers[:3] == [401] * 3 and set(answers[3:]) <= {401, 429} and answers[-1] == 429
    for n in range(50):
        assert (await client.get(f"/ack/{_wrong(n)}", headers=_from(STRANGER))).status in (404, 429)
    assert (await client.get(f"/ack/{_wrong(99)}", headers=_from(STRANGER))).status == 429

    # The duty account from an address that has not failed: the right password signs in at once.
    response = await sign_in(client, user, PASSWORD, headers=_from(OFFICE))
    assert response.status == 303 and response.headers["Location"] == "/"
    # A right link works from anywhere: from the stranger's own address too, and is never refused.
    token = links["东村支书"]
    assert (await client.get(f"/ack/{token}", headers=_from(OFFICE))).status == 200
    posted = await client.post(f"/ack/{token}", headers=_from(STRANGER))
    assert posted.status == 200 and "已确认收到" in await posted.text()
    api = await client.post(f"/api/acks/{links['甲区区长']}", headers=_from(STRANGER))
    assert api.status == 200 and (await api.json())["acknowledged"] is True
    # Meanwhile the stranger's own wrong guesses stay refused, and the office's are merely wrong.
    assert (await client.get(f"/ack/{_wrong(100)}", headers=_from(STRANGER))).status == 429
    assert (await client.get(f"/ack/{_wrong(101)}", headers=_from(OFFICE))).status == 404


async def test_a_name_and_address_that_keep_failing_wait_longer_and_are_told_when(behind_proxy, user, clock):
    client = behind_proxy
    for _ in range(2):
        response = await sign_in(client, user, "wrong-password", headers=_from(STRANGER))
        assert response.status == 401 and "Retry-After" not in response.headers
    told = []
    for expected in (5, 10, 20, 40, 40):   # doubling up to the cap of 40 s
        response = await sign_in(client, user, "wrong-password", headers=_from(STRANGER))
        page = await response.text()
        assert response.status == 401 and int(response.headers["Retry-After"]) == expected
        assert f"用户名或密码错误，请在 {expected} 秒后重试" in page and f'data-retry-after="{expected}"' in page
        # Trying again before the time is refused unchecked, even with the right password, and says when.
        early = await sign_in(client, user, PASSWORD, headers=_from(STRANGER))
        assert early.status == 429 and int(early.headers["Retry-After"]) == expected
        assert f"登录失败次数过多，请在 {expected} 秒后重试" in await early.text()
        told.append(expected)
        clock.advance(seconds=expected)
    assert told == [5, 10, 20, 40, 40]
    # Once the wait is over the right password signs in, and clears the count for this name and address.
    assert (await sign_in(client, user, PASSWORD, headers=_from(STRANGER))).status == 303
    assert (await sign_in(client, user, "wrong-password", headers=_from(STRANGER))).headers.get("Retry-After") is None


async def test_the_looser_address_limit_holds_whatever_the_name(behind_proxy, user, clock):
    client = behind_proxy
    for n in range(10):   # ten names failing once each: the address's ten free failures
        assert (await sign_in(client, f"name-{n}", "wrong-password", headers=_from(STRANGER))).status == 401
    response = await sign_in(client, "name-10", "wrong-password", headers=_from(STRANGER))
    assert response.status == 429 and "请在 5 秒后重试" in await response.text()
    assert (await sign_in(client, user, PASSWORD, headers=_from(OFFICE))).status == 303


async def test_forwarded_addresses_are_ignored_from_an_untrusted_peer(exposed, user):
    client = exposed
    for n in range(3):   # a new made-up address every time: all of them are 127.0.0.1 still
        assert (await sign_in(client, user, "wrong-password", headers=_from(f"192.0.2.{n}"))).status == 401
    response = await sign_in(client, user, PASSWORD, headers=_from("192.0.2.200"))
    assert response.status == 429 and int(response.headers["Retry-After"]) == 5


async def test_a_trusted_proxy_names_the_client_and_a_spoofed_entry_stays_the_clients(behind_proxy, user):
    client = behind_proxy
    for n in range(3):   # the client wrote a different address in front each time; the proxy appended the real one
        headers = _from(f"192.0.2.{n}, {STRANGER}")
        assert (await sign_in(client, user, "wrong-password", headers=headers)).status == 401
    response = await sign_in(client, user, PASSWORD, headers=_from(f"192.0.2.77, {STRANGER}"))
    assert response.status == 429
    assert (await sign_in(client, user, PASSWORD, headers=_from(OFFICE))).status == 303


async def test_guesses_sharing_a_token_prefix_are_refused_from_any_address_and_the_right_token_is_not(
        behind_proxy, links):
    client = behind_proxy
    token = links["东村支书"]
    prefix = token[:PREFIX_LENGTH]
    for n in range(PREFIX_ATTEMPTS):   # a distributed guess at the rest of a half-seen link
        guess = _wrong(n, prefix)
        assert guess != token and (await client.get(f"/ack/{guess}", headers=_from(f"192.0.2.{n}"))).status == 404
    refused = await client.get(f"/ack/{_wrong(50, prefix)}", headers=_from("192.0.2.250"))
    assert refused.status == 429 and int(refused.headers["Retry-After"]) == 5
    assert "尝试次数过多，请在 5 秒后再试" in await refused.text()
    assert (await client.get(f"/ack/{token}", headers=_from("192.0.2.251"))).status == 200


async def test_wrong_links_from_one_address_wait_longer_and_longer(behind_proxy, links, clock):
    client = behind_proxy
    for n in range(ACK_ATTEMPTS):
        assert (await client.get(f"/ack/{_wrong(n)}", headers=_from(STRANGER))).status == 404
    waits = []
    for n in range(3):
        refused = await client.post(f"/api/acks/{_wrong(100 + n)}", headers=_from(STRANGER))
        body = await refused.json()
        assert refused.status == 429 and body["error"] == "too_many_requests" and "秒后再试" in body["detail"]
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(seconds=waits[-1])
        # The wait is over: the next guess is checked (and counted), the one after it waits twice as long.
        assert (await client.get(f"/ack/{_wrong(200 + n)}", headers=_from(STRANGER))).status == 404
    assert waits == [5, 10, 20]
    assert (await client.post(f"/api/acks/{links['东村支书']}", headers=_from(STRANGER))).status == 200
