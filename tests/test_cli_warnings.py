"""`fangxun warnings ingest` and `fangxun dispatch` as a user runs them, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest
from sqlalchemy import func, select
from support.cap_samples import BILLION_LAUGHS, ZZ_SENDER, alert, zhengzhou_rainstorm
from support.databases import PG_URL
from support.warning_factories import DISTRICT_A, DISTRICT_B, add_registry

from fangxun.core.db import create_engine, session_factory
from fangxun.core.migrate import upgrade
from fangxun.warnings.tables import Notification, Warning

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    """A migrated database holding the small registry with 责任人: a SQLite file or a new PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/cli.db"
    else:
        name = f"fx_cliw_{uuid.uuid4().hex[:10]}"
        connection = await asyncpg.connect(PG_URL)
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            await add_registry(session)
    finally:
        await engine.dispose()
    yield url
    if request.param == "postgresql":
        connection = await asyncpg.connect(PG_URL)
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await connection.close()


def current(colour: str = "red", minutes_ago: int = 5) -> bytes:
    """The Zhengzhou sample, sent a few minutes ago (the command uses the real clock) and valid for a day."""
    sent = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    identifier = f"{ZZ_SENDER}_{sent:%Y%m%d%H%M%S}_{colour}"
    return zhengzhou_rainstorm(colour, identifier=identifier, sent=sent.isoformat(),
                               expires=(sent + timedelta(days=1)).isoformat())


def fangxun(url: str, *args: str, config=None):
    """Run the command; returns (exit status, stdout, stderr)."""
    extra = ["--config", str(config)] if config else []
    done = subprocess.run([sys.executable, "-m", "fangxun.cli", "--database-url", url, *extra, *args],
                          capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout, done.stderr


async def counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            warnings = (await session.execute(select(func.count()).select_from(Warning))).scalar_one()
            pending = (await session.execute(select(func.count()).select_from(Notification)
                                             .where(Notification.status == "pending"))).scalar_one()
    finally:
        await engine.dispose()
    return warnings, pending


async def pending_keys(url: str, status: str = "pending") -> set[str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return set((await session.execute(select(Notification.idempotency_key)
                                              .where(Notification.status == status))).scalars())
    finally:
        await engine.dispose()


async def test_each_file_is_ingested_on_its_own_and_a_refused_one_gives_exit_2(database_url, tmp_path):
    red, orange, bomb = tmp_path / "red.xml", tmp_path / "orange.xml", tmp_path / "bomb.xml"
    red.write_bytes(current("red"))
    orange.write_bytes(current("orange", minutes_ago=7))
    bomb.write_bytes(BILLION_LAUGHS)
    code, out, err = fangxun(database_url, "warnings", "ingest", str(red), str(bomb), str(orange))
    assert code == 2, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("red.xml：已接收 暴雨红色预警（发布，预警 ") and "生成" in lines[0]
    assert lines[1].startswith("orange.xml：已接收 暴雨橙色预警")
    assert "bomb.xml：已拒绝：" in err and "实体" in err and "1 个文件被拒绝" in err
    warnings, pending = await counts(database_url)
    assert warnings == 2 and pending > 0

    code, out, err = fangxun(database_url, "warnings", "ingest", str(red))
    assert code == 0 and "red.xml：已有相同预警" in out and "未重复处理" in out
    assert (await counts(database_url))[0] == 2


async def test_dry_run_json_prints_the_warning_and_its_units_without_storing(database_url, tmp_path):
    red = tmp_path / "red.xml"
    red.write_bytes(current("red"))
    code, out, err = fangxun(database_url, "warnings", "ingest", "--dry-run", "--json", str(red))
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["msg_type"], shown["event"], shown["colour"], shown["severity"]) == ("Alert", "暴雨", "red",
                                                                                     "Extreme")
    for key in ("identifier", "sender", "sent", "references", "urgency", "certainty", "onset", "expires"):
        assert key in shown
    (area,) = shown["areas"]
    units = {unit["code"]: unit for unit in area["units"]}
    assert units[DISTRICT_A] == {"code": DISTRICT_A, "name": "甲区", "level": "district", "fraction": 1.0,
                                 "subtree": True}
    assert units[DISTRICT_B]["name"] == "乙区" and area["unit_count"] == 7  # both districts with everything below
    assert shown["unit_count"] == 7 and shown["units_by_level"] == {"district": 2, "township": 3, "village": 2}
    assert shown["recipients"]["persons"] > 0 and "市水利局（市水利局值班室）" in shown["recipients"]["departments"]
    assert await counts(database_url) == (0, 0)

    code, out, _ = fangxun(database_url, "warnings", "ingest", "--dry-run", str(red))
    assert code == 0 and "覆盖 7 个区划" in out and "未保存" in out
    assert await counts(database_url) == (0, 0)


async def test_dry_run_json_shows_the_start_the_expiry_assumed_the_notes_and_all_clears(database_url, tmp_path):
    config = tmp_path / "fangxun.toml"
    config.write_text('[warnings.lifetime.events."暴雨"]\nred = 6\n', encoding="utf-8")
    sent = datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=5)
    earlier = (ZZ_SENDER, f"{ZZ_SENDER}_earlier", (sent - timedelta(hours=1)).isoformat())
    # CMA style: an Update with <effective> and neither <onset> nor <expires>, and an empty <polygon>.
    update = zhengzhou_rainstorm("red", "Update", identifier=f"{ZZ_SENDER}_update", sent=sent.isoformat(),
                                 references=(earlier,), expires=None, polygon="")
    update = update.replace(b"<onset>", b"<effective>", 1).replace(b"</onset>", b"</effective>", 1)
    lifted = zhengzhou_rainstorm("red", "Update", identifier=f"{ZZ_SENDER}_lifted", sent=sent.isoformat(),
                                 references=(earlier,), expires=None).replace(b"Prepare", b"AllClear")
    files = tmp_path / "update.xml", tmp_path / "lifted.xml"
    files[0].write_bytes(update)
    files[1].write_bytes(lifted)
    code, out, err = fangxun(database_url, "warnings", "ingest", "--dry-run", "--json", *map(str, files),
                             config=config)
    assert code == 0, err
    shown, cleared = json.loads(out)
    start = sent.astimezone(timezone.utc)
    assert (shown["effective"], shown["onset"]) == (start.isoformat(), None)
    assert shown["expires"] == (start + timedelta(hours=6)).isoformat() and shown["expires_assumed"] is True
    assert shown["notes"] == ["区域“郑州市金水区、二七区、中原区”的多边形为空，已略去该多边形",
                              "未注明失效时间，按 6 小时计"]
    assert shown["all_clear"] is False and shown["unit_count"] == 7  # the geocodes still count
    assert cleared["all_clear"] is True and cleared["response_types"] == ["AllClear"]
    assert (cleared["expires"], cleared["expires_assumed"], cleared["notes"]) == (None, False, [])

    code, out, err = fangxun(database_url, "warnings", "ingest", "--dry-run", str(files[0]), config=config)
    assert code == 0 and "未保存" in out
    assert "update.xml：注意：未注明失效时间，按 6 小时计" in err and "update.xml：注意：区域" in err
    assert await counts(database_url) == (0, 0)


async def test_lenient_parsing_is_asked_for_and_says_what_it_skipped(database_url, tmp_path):
    faulty = tmp_path / "faulty.xml"
    expires = (datetime.now(BEIJING) + timedelta(hours=6)).replace(microsecond=0).isoformat()
    faulty.write_bytes(alert(f"""<info><language>zh-CN</language><category>Met</category>
        <event>暴雨橙色预警信号</event><urgency>Soon</urgency><severity>Severe</severity>
        <certainty>Likely</certainty><expires>{expires}</expires>
        <area><areaDesc>甲区</areaDesc><geocode><valueName>ADCODE</valueName><value>410102</value></geocode></area>
        </info>""").replace(b"2026-07-20T06:00:00+08:00", datetime.now(BEIJING).replace(microsecond=0)
                              .isoformat().encode()))
    code, _, err = fangxun(database_url, "warnings", "ingest", str(faulty))
    assert code == 2 and "不符合 CAP 1.2 模式" in err
    code, out, err = fangxun(database_url, "warnings", "ingest", "--lenient", "--json", str(faulty))
    assert code == 0, err
    result = json.loads(out)
    assert result["created"] is True and result["file"] == str(faulty) and result["units"] == 5
    assert "faulty.xml：已跳过：" in err and "urgency" in err


async def test_json_output_of_several_files_is_a_list(database_url, tmp_path):
    red, missing = tmp_path / "red.xml", tmp_path / "missing.xml"
    red.write_bytes(current("red"))
    code, out, err = fangxun(database_url, "warnings", "ingest", "--json", str(red), str(missing))
    assert code == 2
    first, second = json.loads(out)
    assert first["created"] is True and first["notifications"] > 0
    assert second == {"file": str(missing), "error": "cap_rejected", "detail": second["detail"]}
    assert "无法读取文件" in second["detail"]


async def test_dispatch_runs_until_sigterm_and_stops_cleanly(database_url, tmp_path):
    outbox = tmp_path / "outbox.jsonl"
    config = tmp_path / "fangxun.toml"
    config.write_text(f'[warnings.channels.record]\nkind = "record"\npath = "{outbox}"\n', encoding="utf-8")
    red = tmp_path / "red.xml"
    red.write_bytes(current("red"))
    assert fangxun(database_url, "warnings", "ingest", str(red), config=config)[0] == 0
    pending = await pending_keys(database_url)

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fangxun.cli", "--database-url", database_url, "--config", str(config), "dispatch",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        started = await asyncio.wait_for(process.stdout.readline(), 60)
        assert "fangxun dispatch 已启动" in started.decode()
        for _ in range(600):
            if outbox.exists() and len(outbox.read_text(encoding="utf-8").splitlines()) >= len(pending):
                break
            await asyncio.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "fangxun dispatch 已停止" in out.decode()
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert pending and {line["idempotency_key"] for line in lines} >= pending
    assert all("/ack/" in line["ack_url"] for line in lines)
    # Whatever the escalation job queued meanwhile is pending or sent, never lost; no row stays claimed.
    assert not pending & await pending_keys(database_url)
    assert await pending_keys(database_url, "sending") == set()


def shandong_heat(sent: datetime) -> bytes:
    """A CMA-style 高温 alert for 蓬莱 (Shandong), written for this test: outside a Zhengzhou jurisdiction."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>37061441600000_{sent:%Y%m%d%H%M%S}</identifier><sender>penglai-met@example.cn</sender>
  <sent>{sent.isoformat()}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>zh-CN</language><category>Met</category><event>高温橙色预警</event>
    <urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>
    <effective>{sent.isoformat()}</effective><expires>{(sent + timedelta(days=1)).isoformat()}</expires>
    <senderName>蓬莱区气象台</senderName><headline>蓬莱区气象台发布高温橙色预警</headline>
    <area><areaDesc>蓬莱区</areaDesc><geocode><valueName>行政区划代码</valueName><value>370614000000</value></geocode>
    </area></info>
</alert>""".encode()


async def test_a_warning_for_another_province_is_shown_outside_the_jurisdiction(database_url, tmp_path):
    heat = tmp_path / "penglai.xml"
    heat.write_bytes(shandong_heat(datetime.now(BEIJING).replace(microsecond=0) - timedelta(minutes=3)))
    code, out, err = fangxun(database_url, "warnings", "ingest", "--dry-run", "--json", str(heat))
    assert code == 0, err
    shown = json.loads(out)
    assert shown["in_jurisdiction"] is False and shown["jurisdiction"] == "outside"
    assert shown["recipients"]["notifications"] == 0 and shown["all_clear"] is False
    code, out, err = fangxun(database_url, "warnings", "ingest", str(heat))
    assert code == 0, err
    assert "高温橙色预警" in out and "辖区外预警：已存档，未通知任何人" in out and "生成 0 条通知" in out
    assert await counts(database_url) == (1, 0)
