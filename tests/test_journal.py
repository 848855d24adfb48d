"""The journal: entries are checked field by field, scoped to the author's department, corrected only by new
entries in a chain, and the database itself refuses to change or remove one."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from support.tree import add_units
from support.warning_factories import DISTRICT_A, EAST_VILLAGE, NOON

from fangxun.core.accounts import Principal
from fangxun.core.errors import BadInput, Conflict, Forbidden, NotFound
from fangxun.warnings.events.journal import add_entry, journal_view, parse_entry
from fangxun.warnings.events.tables import Event, JournalEntry

EDITOR = Principal("token:1", "editor")
WATER = Principal("user:water01", "reporter", department="water")


@pytest.fixture
def departments(settings):
    return settings.warnings.departments


def body(**fields) -> dict:
    return {"department": "water", "action": "转移低洼地带群众", "figures": {"evacuated": 120}, **fields}


async def new_event(session, status: str = "open", name: str = "2026年6月1日降雨过程") -> int:
    event = Event(kind="rainfall", name=name, status=status, started_at=NOON, opened_by="user:duty01",
                  ended_at=NOON if status == "closed" else None)
    session.add(event)
    await session.flush()
    return event.id


@pytest.fixture
async def event_id(sessions):
    async with sessions() as session, session.begin():
        await add_units(session)
        return await new_event(session)


async def add(sessions, settings, event_id, data, principal=EDITOR, now=NOON):
    async with sessions() as session, session.begin():
        entry = await add_entry(session, event_id, parse_entry(data, settings.warnings.departments), principal,
                                settings, now)
        return entry.id


async def count(sessions) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(JournalEntry))).scalar_one()


# --- the body, field by field (no database) ---

def test_a_complete_entry_is_read_with_its_figures(departments):
    fields = parse_entry(body(unit_code=EAST_VILLAGE, text=" 说明 ", figures={"evacuated": 120, "deaths": 0,
                                                                              "economic_loss": 35.5}),
                         departments)
    assert (fields.department, fields.unit_code, fields.action, fields.text) == ("water", EAST_VILLAGE,
                                                                                 "转移低洼地带群众", "说明")
    # 0 is "reported as none"; figures not given stay unreported.
    assert fields.figures == {"evacuated": 120, "deaths": 0, "economic_loss": 35.5}


@pytest.mark.parametrize(("data", "field", "words"), [
    (body(colour="red"), "colour", "不允许的字段"),
    (body(recorded_at="2026-06-01T08:00:00+08:00"), "recorded_at", "服务器"),
    (body(author="someone-else"), "author", "登录账号"),
    (body(figures={"evacuated": -1}), "figures.evacuated", "不小于 0"),
    (body(figures={"housed": 2.5}), "figures.housed", "整数"),
    (body(figures={"deaths": "3"}), "figures.deaths", "数字"),
    (body(figures={"injured": True}), "figures.injured", "数字"),
    (body(figures={"economic_loss": -0.5}), "figures.economic_loss", "不小于 0"),
    (body(figures={"economic_loss": float("nan")}), "figures.economic_loss", "不小于 0"),
    (body(figures={"houses": 3}), "figures.houses", "未知数字项"),
    (body(figures=[1, 2]), "figures", "对象"),
    (body(text="字" * 4001), "text", "4000"),
    (body(action="字" * 1001), "action", "1000"),
    (body(text="东村\x00报告"), "text", "控制字符"),
    (body(department="navy"), "department", "未知部门"),
    (body(department=None), "department", "至少填写一项"),
    (body(unit_code="4101"), "unit_code", "12 位"),
    (body(corrects_id="7"), "corrects_id", "正整数"),
    (body(corrects_id=0), "corrects_id", "正整数"),
    ({"department": "water"}, "action", "请填写"),
])
def test_a_bad_field_is_refused_by_name_in_chinese(departments, data, field, words):
    with pytest.raises(BadInput) as caught:
        parse_entry(data, departments)
    assert caught.value.extra["field"] == field
    assert caught.value.detail.startswith(f"{field}：") and words in caught.value.detail


def test_an_integral_float_counts_as_an_integer(departments):
    assert parse_entry(body(figures={"evacuated": 12.0}), departments).figures == {"evacuated": 12}


# --- written to the database ---

async def test_an_entry_gets_the_server_time_and_the_author_whatever_the_client_says(sessions, settings, event_id):
    later = NOON.replace(hour=5)
    entry_id = await add(sessions, settings, event_id, body(unit_code=DISTRICT_A), WATER, now=later)
    async with sessions() as session:
        entry = await session.get(JournalEntry, entry_id)
    assert (entry.recorded_at, entry.author, entry.department, entry.unit_code) == (later, "user:water01", "water",
                                                                                     DISTRICT_A)
    assert (entry.evacuated, entry.deaths, entry.economic_loss, entry.corrects_id) == (120, None, None, None)


async def test_bad_references_write_nothing(sessions, settings, event_id):
    with pytest.raises(NotFound):
        await add(sessions, settings, event_id + 99, body())
    with pytest.raises(BadInput) as caught:
        await add(sessions, settings, event_id, body(unit_code="410199999999"))
    assert caught.value.extra["field"] == "unit_code" and "不存在" in caught.value.detail
    with pytest.raises(BadInput) as caught:
        await add(sessions, settings, event_id, body(corrects_id=12345))
    assert caught.value.extra["field"] == "corrects_id"
    assert await count(sessions) == 0


async def test_a_closed_event_still_takes_late_reports(sessions, settings):
    async with sessions() as session, session.begin():
        closed = await new_event(session, status="closed")
    entry_id = await add(sessions, settings, closed, body())
    assert entry_id and await count(sessions) == 1


async def test_department_scope(sessions, settings, event_id):
    assert await add(sessions, settings, event_id, body(department="water"), WATER)
    with pytest.raises(Forbidden) as caught:
        await add(sessions, settings, event_id, body(department="transport"), WATER)
    assert "市水利局（water）" in caught.value.detail and "transport" in caught.value.detail
    with pytest.raises(Forbidden):  # a unit-only entry is not the department's either
        await add(sessions, settings, event_id, body(department=None, unit_code=DISTRICT_A), WATER)
    with pytest.raises(Forbidden) as caught:
        await add(sessions, settings, event_id, body(), Principal("token:9", "reporter"))
    assert "未指定所属部门" in caught.value.detail
    with pytest.raises(Forbidden):
        await add(sessions, settings, event_id, body(), Principal("token:8", "viewer"))
    # editors and admins (no department) write for any department or unit
    assert await add(sessions, settings, event_id, body(department="transport"), EDITOR)
    assert await add(sessions, settings, event_id, body(department=None, unit_code=DISTRICT_A),
                     Principal("user:root", "admin"))
    assert await count(sessions) == 3


async def test_corrections_form_a_chain(sessions, settings, event_id):
    first = await add(sessions, settings, event_id, body())
    second = await add(sessions, settings, event_id, body(corrects_id=first, figures={"evacuated": 150}))
    with pytest.raises(Conflict) as caught:
        await add(sessions, settings, event_id, body(corrects_id=first, figures={"evacuated": 99}))
    assert caught.value.extra == {"field": "corrects_id", "corrected_by": second}
    assert f"已被条目 {second} 更正" in caught.value.detail
    third = await add(sessions, settings, event_id, body(corrects_id=second, figures={"evacuated": 160}))
    async with sessions() as session:
        view = await journal_view(session, event_id, settings)
    assert [(e["id"], e["corrects_id"], e["corrected_by"], e["standing"]) for e in view["entries"]] == [
        (first, None, second, False), (second, first, third, False), (third, second, None, True)]
    assert view["totals"]["evacuated"] == 160 and view["totals"]["deaths"] is None


async def test_a_correction_stays_within_its_event_department_and_unit(sessions, settings, event_id):
    original = await add(sessions, settings, event_id, body(unit_code=DISTRICT_A))
    async with sessions() as session, session.begin():
        other_event = await new_event(session, name="另一次过程")
    with pytest.raises(BadInput) as caught:
        await add(sessions, settings, other_event, body(unit_code=DISTRICT_A, corrects_id=original))
    assert f"事件 {other_event} 没有编号为 {original}" in caught.value.detail
    with pytest.raises(BadInput) as caught:
        await add(sessions, settings, event_id, body(department="transport", unit_code=DISTRICT_A,
                                                     corrects_id=original))
    assert "部门和区划相同" in caught.value.detail
    with pytest.raises(BadInput):
        await add(sessions, settings, event_id, body(unit_code=EAST_VILLAGE, corrects_id=original))
    assert await count(sessions) == 1


async def test_totals_add_up_the_standing_entries(sessions, settings, event_id):
    await add(sessions, settings, event_id, body(figures={"evacuated": 100, "economic_loss": 10.5}))
    wrong = await add(sessions, settings, event_id, body(department="transport", action="封闭道路",
                                                         figures={"roads_closed": 30, "deaths": 0}))
    await add(sessions, settings, event_id, body(department="transport", action="封闭道路（更正）",
                                                 corrects_id=wrong, figures={"roads_closed": 3, "deaths": 0}))
    async with sessions() as session:
        totals = (await journal_view(session, event_id, settings))["totals"]
    assert totals == {"evacuated": 100, "shelters_opened": None, "housed": None, "roads_closed": 3, "rescues": None,
                      "deaths": 0, "missing": None, "injured": None, "economic_loss": 10.5}


# --- the database refuses changes, whoever asks ---

async def _snapshot(sessions, entry_id):
    async with sessions() as session:
        row = (await session.execute(select(JournalEntry.__table__).where(JournalEntry.id == entry_id))).one()
    return tuple(row)


async def test_the_database_refuses_an_orm_update(sessions, settings, event_id):
    entry_id = await add(sessions, settings, event_id, body())
    before = await _snapshot(sessions, entry_id)
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            entry = await session.get(JournalEntry, entry_id)
            entry.evacuated = 5
            entry.text = "悄悄改掉"
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.execute(update(JournalEntry).where(JournalEntry.id == entry_id).values(deaths=0))
    assert await _snapshot(sessions, entry_id) == before


async def test_the_database_refuses_deletes(sessions, settings, event_id):
    entry_id = await add(sessions, settings, event_id, body())
    before = await _snapshot(sessions, entry_id)
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.execute(delete(JournalEntry.__table__).where(JournalEntry.id == entry_id))
    with pytest.raises(DBAPIError, match="append-only"):
        async with sessions() as session, session.begin():
            await session.delete(await session.get(JournalEntry, entry_id))
    assert await _snapshot(sessions, entry_id) == before and await count(sessions) == 1


async def test_two_corrections_of_one_entry_at_once_leave_one(sessions, settings, event_id):
    original = await add(sessions, settings, event_id, body())
    fields = parse_entry(body(corrects_id=original, figures={"evacuated": 130}), settings.warnings.departments)
    async with sessions() as first, first.begin():
        await add_entry(first, event_id, fields, EDITOR, settings, NOON)
        # The second waits for the first (a row lock on PostgreSQL, the write lock on SQLite) ...
        second = asyncio.create_task(add(sessions, settings, event_id, body(corrects_id=original)))
        await asyncio.sleep(0.5)
        assert not second.done()
    # ... and, once the first is committed, finds the entry corrected.
    with pytest.raises(Conflict) as caught:
        await second
    async with sessions() as session:
        corrections = (await session.execute(select(JournalEntry.id).where(JournalEntry.corrects_id == original))
                       ).scalars().all()
    assert len(corrections) == 1 and caught.value.extra["corrected_by"] == corrections[0]
