"""Warnings, warning settings and a small registry with plans and 责任人 for the warning store tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, text
from support.sinks import Sink
from support.tree import SMALL_TREE, add_units

from fangxun.core.db import create_engine
from fangxun.plans.models import Contact, Plan
from fangxun.settings import Settings
from fangxun.warnings.config import WarningSettings, reference_problems
from fangxun.warnings.intake.normalised import NormalisedWarning, Reference, WarningArea
from fangxun.warnings.tables import Notification

# 10:00 in Shanghai on the suite's TODAY: outside the default quiet hours (22:00–07:00).
NOON = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
SENDER = "zz-met@cma.gov.cn"

CITY, DISTRICT_A, DISTRICT_B = "410100000000", "410102000000", "410103000000"
STREET_1, TOWN_2, STREET_3 = "410102001000", "410102002000", "410103001000"
EAST_VILLAGE, WEST_VILLAGE = "410102002001", "410102002002"

# (unit, role, name, phone, channels, plan kind or None for a contact of no plan, plan withdrawn?)
PERSONS = [
    (DISTRICT_A, "responsible", "甲区区长", "13900000001", {}, "flood_plan", False),
    (DISTRICT_A, "deputy", "甲区副区长", "13900000002", {}, "flood_plan", False),
    # the same 区长 again in a second plan: one recipient, not two
    (DISTRICT_A, "responsible", "甲区区长", "13900000001", {}, "evacuation", False),
    (DISTRICT_B, "responsible", "乙区区长", "13900000003", {}, "flood_plan", False),
    # 副区长 of a withdrawn plan: not told
    (DISTRICT_B, "deputy", "乙区前副区长", "13900000004", {}, "evacuation", True),
    (STREET_1, "responsible", "一号街道主任", "13900000005", {}, "flood_plan", False),
    (TOWN_2, "responsible", "二号镇镇长", "13900000006", {}, "flood_plan", False),
    (TOWN_2, "deputy", "二号镇副镇长", None, {"hook": "town2-deputy@hook"}, "flood_plan", False),
    # nobody can reach him: no phone, no channel
    (STREET_3, "responsible", "三号街道主任", None, {}, "flood_plan", False),
    (EAST_VILLAGE, "responsible", "东村支书", "13900000008", {}, "flood_plan", False),
    (EAST_VILLAGE, "deputy", "东村主任", "13900000009", {}, "flood_plan", False),
    (EAST_VILLAGE, "responsible", "东村支书", "139-0000-0008", {}, "evacuation", False),
    # 西村 has no plan and no 责任人 at all
]

DEPARTMENTS = {
    "water": ("市水利局", "市水利局值班室", "water-desk", "市水利局分管负责人", "water-leader"),
    "emergency": ("市应急管理局", "市应急管理局指挥中心", "emergency-desk", "市应急管理局分管负责人", "emergency-leader"),
    "weather": ("市气象局", "市气象台值班室", "weather-desk", "市气象局分管负责人", "weather-leader"),
}


def warning_settings(base: Settings, hook_url: str, *, concurrency: int = 20, retry: dict | None = None,
                     quiet: dict | None = None, repeat: int = 1, escalation: bool = True,
                     extra_channels: dict | None = None, **overrides) -> Settings:
    """`base` with a warnings section of one webhook channel `hook` at `hook_url` and a small routing tree:
    暴雨 goes to weather+water+emergency and district 责任人; red and orange to every level."""
    data = {
        "channels": {"hook": {"kind": "webhook", "url": hook_url, "concurrency": concurrency,
                              "timeout_seconds": 5}, **(extra_channels or {})},
        "departments": {key: {"name": name, "desk": {"name": desk, "channel": "hook", "address": desk_addr},
                              "leader": {"name": leader, "channel": "hook", "address": leader_addr}}
                        for key, (name, desk, desk_addr, leader, leader_addr) in DEPARTMENTS.items()},
        "templates": {key: template.model_dump() for key, template in base.warnings.templates.items()},
        "default_route": {"departments": ["emergency"], "person_levels": [], "department_channel": "",
                          "person_channels": ["hook"], "template": "default"},
        "routes": [{"events": ["暴雨"], "departments": ["weather", "water", "emergency"],
                    "person_levels": ["district"], "template": "rainstorm",
                    "routes": [{"min_colour": "orange", "person_levels": ["district", "township", "village"],
                                "template": "rainstorm_severe"}]}],
        "ack_deadline_minutes": {"red": 15, "orange": 30, "yellow": 60, "blue": 120, "uncoloured": 60},
        "repeat_before_escalate": repeat,
        "escalation": {"enabled": escalation,
                       "city_duty_desk": {"name": "市防指办值班室", "channel": "hook", "address": "city-duty-desk"}},
        "quiet_hours": quiet or {"start": "22:00", "end": "07:00", "timezone": "Asia/Shanghai"},
        "retry": retry or {"max_attempts": 4, "base_seconds": 2, "max_seconds": 60, "jitter": 0.2},
        **overrides,
    }
    config = WarningSettings.model_validate(data)
    assert not reference_problems(config), reference_problems(config)
    return base.model_copy(update={"warnings": config})


def make_warning(identifier: str = "zz-2026-0001", *, msg_type: str = "Alert", colour: str | None = "red",
                 event: str = "暴雨", sent: datetime = NOON - timedelta(minutes=5),
                 references: tuple[NormalisedWarning, ...] = (), geocodes: tuple[str, ...] = ("410100",),
                 polygons=(), circles=(), expires: datetime | None = NOON + timedelta(hours=12),
                 status: str = "Actual", description: str = "预计未来3小时降雨量将达100毫米以上。",
                 area_description: str = "郑州市") -> NormalisedWarning:
    """A normalised warning over the test city (by geocode unless polygons or circles are given)."""
    labels = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色", None: ""}
    return NormalisedWarning(
        identifier=identifier, sender=SENDER, sent=sent, status=status, msg_type=msg_type, scope="Public",
        references=tuple(Reference(w.sender, w.identifier, w.sent) for w in references), event=event,
        colour=colour, severity="Extreme" if colour == "red" else "Severe", urgency="Immediate",
        certainty="Likely", onset=sent, expires=expires,
        headline=f"郑州市气象台发布{event}{labels[colour]}预警信号", description=description,
        instruction="请做好防御工作。", sender_name="郑州市气象台", language="zh-CN",
        areas=(WarningArea(area_description, polygons=tuple(polygons), circles=tuple(circles),
                           geocodes=tuple(geocodes)),))


async def add_registry(session, persons=PERSONS, units=SMALL_TREE) -> dict[tuple[str, str], int]:
    """The small tree (or `units`) with plans and the PERSONS above; returns plan ids by (unit, kind)."""
    await add_units(session, units)
    plans: dict[tuple[str, str], int] = {}
    for unit, _, _, _, _, kind, withdrawn in persons:
        if kind and (unit, kind) not in plans:
            result = await session.execute(insert(Plan).values(
                unit_code=unit, kind=kind, title=f"{unit}{kind}", review_cycle_months=36,
                lifecycle="withdrawn" if withdrawn else "active").returning(Plan.id))
            plans[(unit, kind)] = result.scalar_one()
    await session.execute(insert(Contact), [
        {"unit_code": unit, "plan_id": plans.get((unit, kind)), "role": role, "name": name, "position": "",
         "phone": phone, "channels": channels}
        for unit, role, name, phone, channels, kind, _ in persons])
    return plans


async def contact_id(session, unit: str, name: str) -> int:
    """The lowest contact id of a person (the one recipients are keyed on)."""
    return (await session.execute(select(func.min(Contact.id)).where(Contact.unit_code == unit,
                                                                     Contact.name == name))).scalar_one()


async def notifications(session, warning_id: int | None = None, **where) -> list[Notification]:
    """Notifications (of one warning), in id order, filtered by column equality."""
    query = select(Notification).order_by(Notification.id)
    if warning_id is not None:
        query = query.where(Notification.warning_id == warning_id)
    for column, value in where.items():
        query = query.where(getattr(Notification, column) == value)
    return list((await session.execute(query)).scalars())


@dataclass
class HookKeys:
    """Idempotency keys a sink received, with counts."""

    counts: dict[str, int]

    @classmethod
    def of(cls, sink) -> HookKeys:
        counts: dict[str, int] = {}
        for request in sink.requests:
            key = request.headers.get("Idempotency-Key")
            counts[key] = counts.get(key, 0) + 1
        return cls(counts)


async def search_path(engine) -> str | None:
    """The PostgreSQL schema a test engine works in (None on SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as connection:
        return (await connection.execute(text("SHOW search_path"))).scalar_one()


async def twin_engine(engine):
    """A second engine (its own connections) on the same test database."""
    url = engine.url.render_as_string(hide_password=False)
    path = await search_path(engine)
    return create_engine(url, connect_args={"server_settings": {"search_path": path}}) if path else create_engine(url)


async def add_wide_registry(session, townships: int = 10, villages_per_township: int = 30) -> int:
    """A city with one district, `townships` townships and their villages, each with one reachable
    责任人 and a flood plan; returns the number of persons."""
    specs = [(CITY, "测试市", None), (DISTRICT_A, "甲区", CITY)]
    for t in range(1, townships + 1):
        township = f"410102{t:03d}000"
        specs.append((township, f"{t}号镇", DISTRICT_A))
        specs += [(f"410102{t:03d}{v:03d}", f"{t}镇{v}村", township) for v in range(1, villages_per_township + 1)]
    await add_units(session, specs)
    units = [code for code, _, _ in specs if code != CITY]
    plan_ids = (await session.execute(insert(Plan).returning(Plan.id, Plan.unit_code), [
        {"unit_code": code, "kind": "flood_plan", "title": f"{code}预案", "review_cycle_months": 36}
        for code in units])).all()
    await session.execute(insert(Contact), [
        {"unit_code": code, "plan_id": plan_id, "role": "responsible", "name": f"责任人{code[-6:]}",
         "position": "", "phone": f"139{index:08d}", "channels": {}}
        for index, (plan_id, code) in enumerate(plan_ids)])
    return len(units)


@pytest.fixture
async def registry(sessions):
    """The small registry of add_registry in the test database."""
    async with sessions() as session, session.begin():
        return await add_registry(session)


@pytest.fixture
async def sink():
    """A running webhook sink that records what it is sent."""
    async with Sink() as running:
        yield running


@pytest.fixture
async def dispatch(sessions, config, clock):
    """run_until_idle of a dispatcher over the test's `config` channels and `clock` (a module defines both)."""
    from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
    from fangxun.warnings.delivery.dispatcher import Dispatcher

    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "w1",
                                rng=random.Random(3))
        yield dispatcher.run_until_idle
