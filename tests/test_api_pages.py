"""Sign-in, session cookie, rate limit, sign-out and the overview page."""


import pytest
from sqlalchemy import update
from support.api_fixtures import PASSWORD, bearer, record_password_work, sign_in

from fangxun.api.app import create_app
from fangxun.api.cookies import COOKIE_NAME
from fangxun.core.accounts import User
from fangxun.core.service_settings import AuthSettings


def _session_cookie(client):
    return next((c for c in client.session.cookie_jar if c.key == COOKIE_NAME), None)


async def test_signed_out_pages_redirect_to_the_sign_in_form(client):
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login?next=/"
    response = await client.get("/duty/board?day=1", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=/duty/board?day%3D1"
    response = await client.get("/login")
    page = await response.text()
    assert response.status == 200 and all(word in page for word in ("用户名", "密码", "登录"))
    assert "http://" not in page and "https://" not in page   # nothing loaded from outside the intranet
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_sign_in_sets_the_cookie_and_shows_the_overview(client, user):
    response = await sign_in(client, user, "wrong-password-1")
    assert response.status == 401 and "用户名或密码错误" in await response.text()
    response = await sign_in(client, "nobody", PASSWORD)
    assert response.status == 401 and "用户名或密码错误" in await response.text()
    assert _session_cookie(client) is None

    response = await sign_in(client, user, PASSWORD, next_path="/?tab=1")
    assert response.status == 303 and response.headers["Location"] == "/?tab=1"
    cookie = _session_cookie(client)
    assert cookie is not None and cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    page = await (await client.get("/")).text()
    assert "duty01" in page and "退出登录" in page and "行政区划" in page and "登记库为空" in page
    # The clock stands in 2026: the events and the annual reports of 2025 and 2026 are one click away.
    assert 'href="/events"' in page
    assert all(f'href="/api/reports/annual?year={year}&amp;format=html"' in page for year in (2025, 2026))

    # Only local paths are followed after signing in.
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = await sign_in(client, user, PASSWORD, next_path=target)
        assert response.headers["Location"] == "/", target

    response = await client.post("/logout", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert _session_cookie(client) is None
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_tampered_expired_and_disabled_sessions_are_ignored(client, user, sessions, clock):
    await sign_in(client, user, PASSWORD)
    value = _session_cookie(client).value
    assert (await client.get("/", allow_redirects=False)).status == 200

    version, payload, signature = value.split(".")
    forged = payload.replace(payload[5], "A" if payload[5] != "A" else "B", 1)
    for bad in (f"{version}.{forged}.{signature}", value[:-2], "v1.e30.", "garbage"):
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({COOKIE_NAME: bad})
        assert (await client.get("/", allow_redirects=False)).status == 303, bad
        assert (await client.get("/api/stats")).status == 401, bad

    client.session.cookie_jar.update_cookies({COOKIE_NAME: value})
    clock.advance(hours=11, minutes=59)
    assert (await client.get("/", allow_redirects=False)).status == 200
    clock.advance(minutes=2)   # past session_hours = 12
    assert (await client.get("/", allow_redirects=False)).status == 303

    clock.advance(hours=-1)
    async with sessions() as session, session.begin():
        await session.execute(update(User).values(disabled=True))
    assert (await client.get("/", allow_redirects=False)).status == 303


@pytest.fixture
async def strict_client(aiohttp_client, engine, settings, clock):
    """Three free failures per name and address, then 5 s doubling."""
    strict = settings.model_copy(update={"auth": AuthSettings(login_free_failures=3, login_first_delay_seconds=5)})
    return await aiohttp_client(create_app(engine, strict, clock))


async def test_sign_in_failures_make_the_name_and_address_wait(strict_client, user, clock):
    client = strict_client
    for _ in range(3):
        assert (await sign_in(client, user, "wrong-password-1")).status == 401
    response = await sign_in(client, user, PASSWORD)       # the right password is not even checked
    assert response.status == 429 and "登录失败次数过多，请在 5 秒后重试" in await response.text()
    assert response.headers["Retry-After"] == "5"
    assert (await sign_in(client, "someone-else", PASSWORD)).status == 401   # another name is only wrong
    assert _session_cookie(client) is None

    clock.advance(seconds=5)
    assert (await sign_in(client, user, PASSWORD)).status == 303
    # Successful sign-ins do not count: an office behind one address can keep signing in.
    for _ in range(5):
        assert (await sign_in(client, user, PASSWORD)).status == 303


async def test_cross_site_form_posts_are_refused(client, user):
    response = await sign_in(client, user, PASSWORD, headers={"Origin": "http://evil.example"})
    assert response.status == 403
    assert _session_cookie(client) is None
    assert (await sign_in(client, user, PASSWORD, headers={"Origin": str(client.make_url(""))})).status == 303


async def test_overview_escapes_everything_from_the_database(client, user, units, tokens):
    response = await client.post("/api/plans", headers=bearer(tokens["editor"]), json={
        "unit_code": "410102002001", "kind": "flood_plan", "title": "<script>alert(1)</script>",
        "approved_on": "2020-01-01"})
    assert response.status == 201
    await sign_in(client, user, PASSWORD)
    page = await (await client.get("/")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert "测试市" in page and "逾期未评估" in page and "责任人无法联系" in page


async def test_password_checks_do_not_block_the_event_loop(client, user):
    off_loop = record_password_work(client.app)
    assert (await sign_in(client, user, "wrong-password-1")).status == 401
    # The argon2id check (~0.1 s) ran in the password thread pool: on the loop it would freeze every request.
    assert off_loop == ["_verify"]
