"""/api/health (alive: the process answers, no database asked) and /api/ready (database, schema at head, a fresh
dispatcher heartbeat, the scheduler and feeds of this process): machine-readable, Chinese text, 200 or 503. The
rules alone, then the routes on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text
from support.waiting import wait_until
from support.warning_factories import NOON, warning_settings

from fangxun.api.app import create_app
from fangxun.api.keys import WARNING_SERVICE
from fangxun.core.db_clock import database_seconds
from fangxun.warnings.delivery.workers import register
from fangxun.warnings.readiness import CHECKS, Facts, FeedState, duration_text, readiness
from fangxun.warnings.tables import DispatchWorker

T = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)


def facts(**changes) -> Facts:
    """A process that runs the dispatcher and scheduler, everything in order."""
    return Facts(**{"now": T, "database": True, "schema": ("0009", "0009"), "heartbeat_ages": (1.5,), "hosted": True,
                    "scheduler_running": True,
                    "feeds": (FeedState("cma", 60, T - timedelta(seconds=30), T - timedelta(hours=1)),), **changes})


def test_all_in_order_is_ready():
    body = readiness(facts(), 30, 3)
    assert body["ready"] is True and body["status"] == "ready" and body["detail"] == "服务就绪"
    assert all(check["ok"] for check in body["checks"].values()) and tuple(body["checks"]) == CHECKS
    assert body["checks"]["dispatcher"]["detail"] == "预警发送进程心跳正常（1 个，最近一次在 2 秒前）"
    assert body["checks"]["feeds"]["feeds"] == [{"name": "cma", "ok": True, "last_success": "2026-06-01T01:59:30+00:00",
                                                 "age_seconds": 30.0, "stale_after_seconds": 180}]


@pytest.mark.parametrize(("changes", "check", "detail"), [
    ({"database": False, "schema": None, "heartbeat_ages": None}, "database", "无法连接数据库"),
    ({"schema": ("0008", "0009")}, "schema", "数据库结构不是最新版本（当前 0008，应为 0009）：请运行 fangxun db upgrade"),
    ({"schema": (None, "0009")}, "schema", "数据库结构不是最新版本（当前 空，应为 0009）：请运行 fangxun db upgrade"),
    ({"heartbeat_ages": ()}, "dispatcher", "没有正在运行的预警发送进程（fangxun serve 或 fangxun dispatch）"),
    ({"heartbeat_ages": (95.0, 400.0)}, "dispatcher", "预警发送进程心跳已中断：最近一次在 95 秒前（超过 30 秒）"),
    ({"scheduler_running": False}, "scheduler", "定时任务未运行：叫应提醒、逐级上报和订阅源都已停止"),
    ({"feeds": (FeedState("cma", 60, T - timedelta(minutes=10), T - timedelta(hours=1)),)}, "feeds",
     "订阅源 cma 已 10 分钟未成功读取（超过 3 分钟）"),
    ({"feeds": (FeedState("cma", 5, None, T - timedelta(minutes=3)),)}, "feeds",
     "订阅源 cma 开始读取 3 分钟以来一直未成功读取（超过 2 分钟）"),
])
def test_each_failing_check_says_what_is_wrong(changes, check, detail):
    body = readiness(facts(**changes), 30, 3)
    assert body["ready"] is False and body["status"] == "not_ready"
    assert body["checks"][check]["ok"] is False and body["checks"][check]["detail"] == detail
    assert body["detail"].startswith("服务未就绪：") and detail in body["detail"]


def test_a_web_process_without_the_dispatcher_leaves_scheduler_and_feeds_to_it():
    body = readiness(facts(hosted=False, scheduler_running=False, feeds=()), 30, 3)
    assert body["ready"] is True
    assert body["checks"]["scheduler"] == {"ok": True, "skipped": True,
                                           "detail": "本进程不运行定时任务（--no-dispatch），由 fangxun dispatch 运行"}
    assert body["checks"]["feeds"]["skipped"] is True


def test_durations_read_naturally():
    assert [duration_text(s) for s in (4.4, 119, 120, 7199, 7200 * 3)] == ["4 秒", "119 秒", "2 分钟", "120 分钟",
                                                                         "6 小时"]


# --- the routes ------------------------------------------------------------------------------------------


async def ready(client) -> tuple[int, dict]:
    response = await client.get("/api/ready")
    body = await response.json()
    assert body["status"] == ("ready" if response.status == 200 else "not_ready") and body["version"]
    assert body.get("error") == (None if response.status == 200 else "not_ready")  # the shape of every failure
    return response.status, body


async def test_ready_once_a_dispatcher_beats_and_not_when_its_heartbeat_is_stale(client, sessions):
    status, body = await ready(client)
    assert status == 503 and body["checks"]["dispatcher"]["workers"] == 0
    assert body["checks"]["database"]["ok"] and body["checks"]["schema"]["ok"]
    async with sessions() as session, session.begin():
        await register(session, "web-1", NOON)
    status, body = await ready(client)
    assert status == 200 and body["detail"] == "服务就绪"
    assert body["checks"]["scheduler"]["skipped"] is True  # the test app runs no dispatcher of its own
    async with sessions() as session, session.begin():
        await session.execute(DispatchWorker.__table__.delete())
        now = (await session.execute(select(database_seconds()))).scalar_one()
        await session.execute(insert(DispatchWorker).values(id="gone", host="h", pid=1, started_at=NOON,
                                                            beat_at=now - 100))
    status, body = await ready(client)
    assert status == 503
    assert body["checks"]["dispatcher"]["detail"].startswith("预警发送进程心跳已中断：最近一次在 10")
    assert body["checks"]["dispatcher"]["heartbeat_age_seconds"] == pytest.approx(100, abs=5)
    assert (await client.get("/api/health")).status == 200  # alive all along


async def test_not_ready_when_the_schema_is_behind(client, engine, sessions):
    async with sessions() as session, session.begin():
        await register(session, "web-1", NOON)
        head = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        await session.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    status, body = await ready(client)
    assert status == 503 and body["checks"]["schema"]["revision"] == "0008" and body["checks"]["schema"]["head"] == head
    assert "fangxun db upgrade" in body["detail"]


@pytest.fixture
def hosted_config(settings, sink, tmp_path):
    """Warnings to the sink, and two feeds: a drop folder, and a folder that is not there."""
    (tmp_path / "drop").mkdir()
    config = warning_settings(settings, sink.url_for("/hook"))
    feeds = type(config.warnings).model_validate({"feeds": [{"name": "drop", "directory": str(tmp_path / "drop")},
                                                            {"name": "lost", "directory": str(tmp_path / "no")}]})
    return config.model_copy(update={"warnings": config.warnings.model_copy(update={"feeds": feeds.feeds})})


async def test_a_process_running_the_dispatcher_checks_its_scheduler_and_feeds(aiohttp_client, engine, hosted_config,
                                                                               clock):
    app = create_app(engine, hosted_config, clock, dispatch=True)
    client = await aiohttp_client(app)
    service = app[WARNING_SERVICE]

    async def first_polls_done() -> bool:
        return "drop" in service.jobs.feed_success

    await wait_until(first_polls_done, timeout=30)

    async def beating() -> bool:
        return (await ready(client))[1]["checks"]["dispatcher"]["ok"]

    await wait_until(beating, timeout=30)
    status, body = await ready(client)
    assert status == 200, body
    assert body["checks"]["scheduler"]["ok"] and not body["checks"]["scheduler"].get("skipped")
    assert [(feed["name"], feed["ok"]) for feed in body["checks"]["feeds"]["feeds"]] == [("drop", True), ("lost", True)]
    clock.advance(minutes=10)  # no poll since, by the service's clock
    status, body = await ready(client)
    assert status == 503 and not body["checks"]["feeds"]["ok"]
    assert body["checks"]["feeds"]["detail"] == ("订阅源 drop 已 10 分钟未成功读取（超过 3 分钟）；"
                                                 "订阅源 lost 开始读取 10 分钟以来一直未成功读取（超过 3 分钟）")
    assert (await client.get("/api/health")).status == 200
    service._task.cancel()  # the dispatcher's loop ends as if on an error: the process must be restarted
    await wait_until(lambda: _done(service), timeout=10)
    response = await client.get("/api/health")
    body = await response.json()
    assert response.status == 503 and body["error"] == "not_alive" and body["alive"] is False
    assert body["detail"] == "本进程的预警发送循环已停止，请重启服务"


async def _done(service) -> bool:
    return not service.dispatcher_running()
