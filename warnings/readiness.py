"""Whether the service is ready to do its work, from facts gathered elsewhere (pure): the database answers, its
schema is at head, a dispatcher's heartbeat is fresh, the scheduler runs, the feeds are read. Machine-readable,
with Chinese text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# A feed is never called stale sooner than this, however short its interval.
FEED_STALE_FLOOR_SECONDS = 120
# The checks of /api/ready, in the order they are reported.
CHECKS = ("database", "schema", "dispatcher", "scheduler", "feeds")


@dataclass(frozen=True)
class FeedState:
    """One configured feed as this process polls it."""

    name: str
    interval_seconds: int
    last_success: datetime | None
    watched_since: datetime  # when this process began polling it


@dataclass(frozen=True)
class Facts:
    """What the probes found. `schema` and `heartbeat_ages` are None when the database did not answer; `hosted`
    says whether this process runs the dispatcher and scheduler (otherwise `fangxun dispatch` does)."""

    now: datetime
    database: bool
    schema: tuple[str | None, str] | None  # (current revision, head)
    heartbeat_ages: tuple[float, ...] | None  # seconds since each listed dispatcher's last beat, freshest first
    hosted: bool
    scheduler_running: bool = False
    feeds: tuple[FeedState, ...] = ()


def duration_text(seconds: float) -> str:
    """A span in Chinese: 45 秒, 12 分钟, 3 小时."""
    if seconds < 120:
        return f"{seconds:.0f} 秒"
    if seconds < 7200:
        return f"{seconds / 60:.0f} 分钟"
    return f"{seconds / 3600:.0f} 小时"


def _check(ok: bool, detail: str, **extra: object) -> dict:
    return {"ok": ok, "detail": detail, **extra}


def database_check(facts: Facts) -> dict:
    return _check(True, "数据库连接正常") if facts.database else _check(False, "无法连接数据库")


def schema_check(facts: Facts) -> dict:
    if facts.schema is None:
        return _check(False, "数据库不可用，无法检查数据库结构")
    current, head = facts.schema
    if current == head:
        return _check(True, f"数据库结构为最新版本（{head}）", revision=current, head=head)
    return _check(False, f"数据库结构不是最新版本（当前 {current or '空'}，应为 {head}）：请运行 fangxun db upgrade",
                  revision=current, head=head)


def dispatcher_check(facts: Facts, stale_seconds: float) -> dict:
    ages = facts.heartbeat_ages
    if ages is None:
        return _check(False, "无法读取预警发送进程的心跳（数据库不可用或结构不是最新）")
    if not ages:
        return _check(False, "没有正在运行的预警发送进程（fangxun serve 或 fangxun dispatch）", workers=0,
                      heartbeat_age_seconds=None)
    fresh = sum(1 for age in ages if age <= stale_seconds)
    extra = {"workers": fresh, "heartbeat_age_seconds": round(ages[0], 3)}
    if not fresh:
        return _check(False, f"预警发送进程心跳已中断：最近一次在 {duration_text(ages[0])}前"
                             f"（超过 {duration_text(stale_seconds)}）", **extra)
    return _check(True, f"预警发送进程心跳正常（{fresh} 个，最近一次在 {duration_text(ages[0])}前）", **extra)


def scheduler_check(facts: Facts) -> dict:
    if not facts.hosted:
        return _check(True, "本进程不运行定时任务（--no-dispatch），由 fangxun dispatch 运行", skipped=True)
    if facts.scheduler_running:
        return _check(True, "定时任务运行中（叫应提醒与逐级上报、关闭过期预警、订阅源）")
    return _check(False, "定时任务未运行：叫应提醒、逐级上报和订阅源都已停止")


def feed_stale_after(interval_seconds: int, intervals: int) -> float:
    """Seconds without a successful read after which a feed polled every `interval_seconds` is stale."""
    return max(intervals * interval_seconds, FEED_STALE_FLOOR_SECONDS)


def feeds_check(facts: Facts, intervals: int) -> dict:
    if not facts.hosted:
        return _check(True, "本进程不读取订阅源（--no-dispatch），由 fangxun dispatch 读取", skipped=True, feeds=[])
    if not facts.feeds:
        return _check(True, "未配置预警订阅源", feeds=[])
    shown, stale = [], []
    for feed in facts.feeds:
        since = feed.last_success or feed.watched_since
        age = max(0.0, (facts.now - since).total_seconds())
        limit = feed_stale_after(feed.interval_seconds, intervals)
        ok = age <= limit
        shown.append({"name": feed.name, "ok": ok, "last_success": feed.last_success.isoformat()
                      if feed.last_success else None, "age_seconds": round(age, 3), "stale_after_seconds": limit})
        if not ok:
            span = (f"开始读取 {duration_text(age)}以来一直" if feed.last_success is None else
                    f"已 {duration_text(age)}")
            stale.append(f"订阅源 {feed.name} {span}未成功读取（超过 {duration_text(limit)}）")
    if stale:
        return _check(False, "；".join(stale), feeds=shown)
    return _check(True, f"订阅源读取正常（{len(shown)} 个）", feeds=shown)


def readiness(facts: Facts, heartbeat_stale_seconds: float, feed_stale_intervals: int) -> dict:
    """`{"ready", "status", "detail", "checks": {name: {"ok", "detail", …}}}`: ready when every check is ok."""
    checks = {"database": database_check(facts), "schema": schema_check(facts),
              "dispatcher": dispatcher_check(facts, heartbeat_stale_seconds), "scheduler": scheduler_check(facts),
              "feeds": feeds_check(facts, feed_stale_intervals)}
    failing = [check["detail"] for check in checks.values() if not check["ok"]]
    return {"ready": not failing, "status": "ready" if not failing else "not_ready",
            "detail": "服务就绪" if not failing else "服务未就绪：" + "；".join(failing), "checks": checks}
