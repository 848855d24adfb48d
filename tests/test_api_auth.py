"""API authentication and roles: only health and readiness are open, tokens are checked, viewers cannot write."""

from datetime import datetime, timezone

from sqlalchemy import func, select, update
from support.api_fixtures import CSRF, PASSWORD, bearer, sign_in

from fangxun.api.app import create_app
from fangxun.core.accounts import ApiToken
from fangxun.core.audit import AuditRecord
from fangxun.core.db import create_engine

READS = ["/api/units/tree", "/api/units/410100000000", "/api/plans", "/api/plans/1", "/api/coverage", "/api/stats",
         "/api/nothing-here"]
WRITES = [("POST", "/api/plans"), ("PATCH", "/api/plans/1"), ("POST", "/api/plans/1/reviews"),
          ("POST", "/api/plans/1/withdraw")]


async def test_health_and_readiness_are_open(client):
    response = await client.get("/api/health")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["alive"] is True and body["version"]
    response = await client.get("/api/ready")  # no dispatcher runs here: not ready, but answered to anyone
    assert response.status == 503
    assert (await response.json())["checks"]["database"]["ok"] is True


async def test_health_needs_no_database_and_readiness_reports_a_dead_one_with_503(aiohttp_client, settings,
                                                                                 monkeypatch):
    monkeypatch.setenv("FANGXUN_SECRET_KEY", "test-only-key")  # start-up needs no database then
    dead = create_engine("postgresql://postgres@127.0.0.1:9/nowhere")
    try:
        client = await aiohttp_client(create_app(dead, settings))
        assert (await client.get("/api/health")).status == 200
        response = await client.get("/api/ready")
        assert response.status == 503
        body = await response.json()
        assert body["ready"] is False and body["checks"]["database"] == {"ok": False, "detail": "无法连接数据库"}
    finally:
        await dead.dispose()


async def test_every_other_route_needs_credentials(client):
    for path in READS:
        response = await client.get(path)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"] == "unauthorized"
    for method, path in WRITES:
        response = await client.request(method, path, json={})
        assert response.status == 401, path


async def test_bad_malformed_and_revoked_tokens_are_refused(client, sessions, tokens):
    for header in ({"Authorization": "Bearer fx_not-a-real-token"}, {"Authorization": "Bearer nonsense"},
                   {"Authorization": "Basic ZHV0eTAxOnB3"}, {"Authorization": "Bearer "}):
        response = await client.get("/api/plans", headers=header)
        assert response.status == 401, header
        assert "detail" in await response.json()
    assert (await client.get("/api/plans", headers=bearer(tokens["viewer"]))).status == 200
    async with sessions() as session, session.begin():
        await session.execute(update(ApiToken).values(revoked_at=datetime.now(timezone.utc)))
    response = await client.get("/api/plans", headers=bearer(tokens["viewer"]))
    assert response.status == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_viewer_cannot_write_anything_and_nothing_is_written(client, sessions, tokens, units):
    body = {"unit_code": "410100000000", "kind": "flood_plan", "title": "测试市防汛应急预案"}
    for method, path in WRITES:
        response = await client.request(method, path, json=body, headers=bearer(tokens["viewer"]))
        assert response.status == 403, path
        assert (await response.json())["error"] == "forbidden"
    async with sessions() as session:
        writes = await session.scalar(select(func.count()).select_from(AuditRecord)
                                      .where(AuditRecord.action.like("plan.%")))
    assert writes == 0
    response = await client.post("/api/plans", json=body, headers=bearer(tokens["editor"]))
    assert response.status == 201
    response = await client.post("/api/plans/1/withdraw", json={"withdrawn_on": "2026-05-01", "reason": "合并"},
                                 headers=bearer(tokens["admin"]))
    assert response.status == 200


async def test_unknown_routes_and_methods_answer_json(client, tokens):
    headers = bearer(tokens["viewer"])
    response = await client.get("/api/nothing-here", headers=headers)
    assert response.status == 404
    assert (await response.json())["error"] == "not_found"
    response = await client.delete("/api/plans/1", headers=bearer(tokens["editor"]))
    assert response.status == 405
    assert "detail" in await response.json()


async def test_unexpected_errors_are_500_json_without_traceback(aiohttp_client, engine, settings, tokens, caplog):
    app = create_app(engine, settings)

    async def boom(_request):
        raise RuntimeError("secret internals")

    app.router.add_get("/api/boom", boom)
    client = await aiohttp_client(app)
    response = await client.get("/api/boom", headers=bearer(tokens["viewer"]))
    assert response.status == 500
    text = await response.text()
    assert "secret internals" not in text and "Traceback" not in text
    assert (await response.json())["error"] == "internal_error"
    assert "secret internals" in caplog.text


async def test_api_accepts_the_page_session_but_cookie_writes_need_the_csrf_header(client, user, units):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    assert (await client.get("/api/stats")).status == 200
    body = {"unit_code": "410100000000", "kind": "flood_plan", "title": "测试市防汛应急预案"}
    response = await client.post("/api/plans", json=body)
    assert response.status == 403
    assert "X-Requested-With" in (await response.json())["detail"]
    response = await client.post("/api/plans", json=body, headers={"Origin": "http://evil.example"})
    assert response.status == 403
    response = await client.post("/api/plans", json=body, headers=CSRF)
    assert response.status == 201
    assert (await response.json())["revisions"][0]["entered_by"] == "user:duty01"
