"""The duty map's warning overlay: active warnings' areas, or the boundaries of the units they name."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import shapely
from sqlalchemy import update
from support.api_fixtures import PASSWORD, sign_in
from support.map_registry import CITY, JIA, SHAPES, YI, add_map_registry
from support.warning_factories import NOON, make_warning, warning_settings

from fangxun.api.app import create_app
from fangxun.plans.models import AdminUnit
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.map_overlay import warning_areas

HOOK = "http://127.0.0.1:9/hook"
BOX = ((113.2, 34.2), (113.4, 34.2), (113.4, 34.4), (113.2, 34.4), (113.2, 34.2))


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


@pytest.fixture
async def registry(sessions, settings, today):
    async with sessions() as session, session.begin():
        return await add_map_registry(session, settings, today)


async def overlay(sessions):
    async with sessions() as session:
        return await warning_areas(session)


async def test_geocode_warnings_are_drawn_as_their_named_units(sessions, config, registry):
    assert (await overlay(sessions)).empty
    await ingest(sessions, make_warning("jia", geocodes=("410102",)), config, NOON)
    frame = await overlay(sessions)
    assert list(frame["colour"]) == ["red"] and list(frame["event"]) == ["暴雨"]
    assert frame.iloc[0]["expires"] == "2026-06-01 22:00"
    assert shapely.equals(frame.geometry.iloc[0], SHAPES[JIA].normalize())


async def test_a_named_unit_without_a_boundary_is_drawn_as_the_units_below_it(sessions, config, registry):
    async with sessions() as session, session.begin():
        await session.execute(update(AdminUnit).where(AdminUnit.code == CITY).values(geometry=None))
    await ingest(sessions, make_warning("city", colour="orange", geocodes=("410100",)), config, NOON)
    shape = (await overlay(sessions)).geometry.iloc[0]
    assert shapely.equals(shape, shapely.union_all([SHAPES[JIA], SHAPES[YI]]))


async def test_drawn_areas_are_used_as_they_are_and_only_active_warnings_show(sessions, config, registry):
    polygon = await ingest(sessions, make_warning("poly", colour="yellow", geocodes=(), polygons=[BOX]), config, NOON)
    await ingest(sessions, make_warning("circle", colour="blue", geocodes=(), circles=[(114.5, 34.5, 10.0)]),
                 config, NOON)
    await ingest(sessions, make_warning("gone", sent=NOON - timedelta(days=2), expires=NOON - timedelta(days=1)),
                 config, NOON)
    frame = await overlay(sessions)
    by_colour = dict(zip(frame["colour"], frame.geometry))
    assert set(by_colour) == {"yellow", "blue"}
    assert shapely.equals(by_colour["yellow"], shapely.Polygon(BOX))
    circle = by_colour["blue"]
    assert circle.contains(shapely.Point(114.5, 34.5)) and not circle.contains(shapely.Point(114.7, 34.5))
    # An upgrade replaces the area drawn; a 解除 removes it.
    update_ = make_warning("poly-2", msg_type="Update", colour="orange", geocodes=("410103",),
                           references=(make_warning("poly", colour="yellow", geocodes=(), polygons=[BOX]),))
    await ingest(sessions, update_, config, NOON + timedelta(minutes=5))
    assert sorted((await overlay(sessions))["colour"]) == ["blue", "orange"]
    cancel = make_warning("poly-3", msg_type="Cancel", references=(update_,), sent=NOON + timedelta(minutes=9))
    await ingest(sessions, cancel, config, NOON + timedelta(minutes=10))
    assert list((await overlay(sessions))["colour"]) == ["blue"]
    assert polygon.warning.id


async def test_the_map_page_draws_the_overlay(aiohttp_client, engine, sessions, config, clock, user, registry):
    client = await aiohttp_client(create_app(engine, config, clock))
    await sign_in(client, user, PASSWORD)
    assert "warningLayer" not in await (await client.get("/map")).text()
    await ingest(sessions, make_warning("jia", geocodes=("410102",)), config, NOON)
    page = await (await client.get("/map")).text()
    match = re.search(r"FangxunMap\.warningLayer\(", page)
    assert match and "预警区域" in page
    collection = json.JSONDecoder().raw_decode(page, match.end())[0]
    (feature,) = collection["features"]
    assert feature["properties"]["colour"] == "red"
    assert feature["properties"]["headline"] == "郑州市气象台发布暴雨红色预警信号"
