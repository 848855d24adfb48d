"""The rules that used to be written more than once, each tested where it now lives."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import String, cast, select
from support.tree import add_units

from fangxun.core.errors import BadInput
from fangxun.core.times import parse_local_time, year_bounds
from fangxun.plans.contact_rules import address_on, channels_from_text, reachable
from fangxun.plans.coverage import reachable_condition
from fangxun.plans.models import AdminUnit, Contact
from fangxun.plans.unit_queries import in_subtrees
from fangxun.plans.unit_rules import (ANCESTOR_LEVELS, LEVEL_GRADES, LEVEL_LABELS, LEVELS, PARENT_LEVEL, PERSON_LEVELS,
                                      ancestors, full_code, level_rank, significant_prefix)
from fangxun.warnings.events.event_filters import select_events
from fangxun.warnings.events.tables import Event
from fangxun.warnings.routing.deadlines import escalation_target
from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOUR_NAMES, COLOURS

EIGHT = datetime(2026, 7, 20, 0, 0, tzinfo=UTC)  # 2026-07-20 08:00 in Beijing


# --- one time parser, strictness by parameter -------------------------------------------------------

def test_times_without_a_zone_are_beijing_time_and_come_back_in_utc():
    assert parse_local_time("2026-07-20T08:00:00+08:00", "at") == EIGHT
    assert parse_local_time(" 2026-07-20 08:00 ", "at") == EIGHT
    assert parse_local_time("2026-07-20T00:00:00Z", "at") == EIGHT
    assert parse_local_time("2026-07-20", "at") == EIGHT - timedelta(hours=8)
    assert parse_local_time("2026-07-20T08:00:00.5", "at").microsecond == 500000


@pytest.mark.parametrize("value", [None, ""])
def test_empty_is_none_only_when_allowed(value):
    assert parse_local_time(value, "at", empty=True) is None
    with pytest.raises(BadInput) as caught:
        parse_local_time(value, "at")
    assert caught.value.detail == "at：应为时间文本，如 2026-07-20T06:00:00+08:00"
    assert caught.value.extra == {"field": "at"}


def test_blank_text_is_not_empty():
    with pytest.raises(BadInput) as caught:
        parse_local_time("  ", "at", empty=True)
    assert caught.value.detail.startswith("at：时间 '' 无法读取")


def test_dates_off_reads_only_date_times():
    assert parse_local_time("2026072008", "at") == datetime(2026, 7, 19, 16, tzinfo=UTC)  # a basic-format date
    with pytest.raises(BadInput):
        parse_local_time("2026072008", "at", dates=False)
    assert parse_local_time("2026-07-20T08:00", "at", dates=False) == EIGHT


def test_a_zone_may_be_required():
    assert parse_local_time("2026-07-20T08:00+08:00", "at", naive=False) == EIGHT
    with pytest.raises(BadInput) as caught:
        parse_local_time("2026-07-20T08:00", "at", naive=False)
    assert caught.value.detail == "at：时间 '2026-07-20T08:00' 应带时区，如 2026-07-20T06:00:00+08:00"


def test_each_caller_keeps_its_wording():
    with pytest.raises(BadInput) as caught:
        parse_local_time(" 明天 ", "onset", unreadable="字段 {field}：时间 {value!r} 无法读取")
    assert caught.value.detail == "字段 onset：时间 ' 明天 ' 无法读取"
    with pytest.raises(BadInput) as caught:
        parse_local_time(20260720, "since", not_text="{field}：应为时间：{value!r}")
    assert caught.value.detail == "since：应为时间：20260720"


def test_year_bounds_in_beijing_and_other_zones():
    assert year_bounds(2026) == (datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert year_bounds(2026, "UTC") == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


# --- unit codes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "code"), [
    ("410105", "410105000000"), ("410105001", "410105001000"), (" 410105001002 ", "410105001002"),
    (410105004, "410105004000"), ("41010500", None), ("abc", None), ("", None), (None, None),
    ("4101050010021", None),
])
def test_full_code(raw, code):
    assert full_code(raw) == code


def test_significant_prefix_names_the_subtree():  # its cases: tests/test_routing.py
    assert "410105001001".startswith(significant_prefix(full_code("410105")))
    assert not "410106001001".startswith(significant_prefix(full_code("410105001")))


# --- the level chain ----------------------------------------------------------------------------------

def test_the_level_chain_is_derived_from_one_list():
    assert LEVELS == ("province", "city", "district", "township", "village")
    assert PARENT_LEVEL == {"city": "province", "district": "city", "township": "district", "village": "township"}
    assert ANCESTOR_LEVELS == ("province", "city", "district", "township")
    assert PERSON_LEVELS == ("district", "township", "village")
    assert list(LEVEL_LABELS) == list(LEVEL_GRADES) == list(LEVELS)
    assert [level_rank(level) for level in (*LEVELS, "region", None)] == [0, 1, 2, 3, 4, 5, 5]
    assert ancestors("village", "410105001001", "410105001000",
                     {"city_code": "410100000000", "district_code": "410105000000",
                      "township_code": "410105001000"})["township_code"] == "410105001000"


def test_persons_escalate_up_the_chain_then_to_the_city_desk():
    assert escalation_target("person", "village") == ("person", "township")
    assert escalation_target("person", "township") == ("person", "district")
    assert escalation_target("person", "district") == ("duty_desk", "city")


def test_colour_words():
    assert COLOURS == tuple(COLOUR_LABELS)
    assert {COLOUR_NAMES[name] for name in ("蓝", "蓝色", "blue")} == {"blue"}
    assert set(COLOUR_NAMES.values()) == set(COLOURS)


# --- reachability -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "phone", "channels", "expected"), [
    ("responsible", "13900000001", None, True),
    ("deputy", None, '{"wecom": "yi"}', True),
    ("responsible", None, "{}", False),
    ("responsible", None, "null", False),
    ("responsible", None, None, False),
    ("duty_desk", "037160000001", "{}", False),
])
def test_reachable(role, phone, channels, expected):
    assert reachable(role, phone, channels) is expected


def test_address_on_a_channel():
    channels = channels_from_text('{"wecom": "yi", "sms": " 139 "}')
    assert address_on(channels, "137", "wecom-main", "wecom", phone_carries=True) == "yi"
    assert address_on(channels, "137", "sms", "sms", phone_carries=True) == "139"
    assert address_on({}, "137", "mail", "email", phone_carries=False) == ""
    assert address_on(None, "137", "text", "sms", phone_carries=True) == "137"
    assert channels_from_text("[1]") == {} and channels_from_text(None) == {}


async def test_the_sql_form_agrees_with_the_rule(sessions):
    people = [("responsible", "13900000001", {}), ("deputy", None, {"wecom": "yi"}), ("responsible", None, {}),
              ("duty_desk", "037160000001", {}), ("responsible", None, None)]
    async with sessions() as session, session.begin():
        await add_units(session)
        session.add_all([Contact(unit_code="410102000000", role=role, name=f"p{index}", phone=phone,
                                 channels=channels) for index, (role, phone, channels) in enumerate(people)])
    async with sessions() as session:
        rows = (await session.execute(select(Contact.name, Contact.role, Contact.phone,
                                             cast(Contact.channels, String)).order_by(Contact.id))).all()
        by_sql = set((await session.execute(select(Contact.name).where(reachable_condition()))).scalars())
    assert by_sql == {name for name, role, phone, channels in rows if reachable(role, phone, channels)} == {"p0", "p1"}


async def test_subtrees_by_code(sessions):
    async with sessions() as session, session.begin():
        await add_units(session)
    async with sessions() as session:
        below = set((await session.execute(select(AdminUnit.code).where(in_subtrees(["410102002000"])))).scalars())
        none = (await session.execute(select(AdminUnit.code).where(in_subtrees([])))).all()
    assert below == {"410102002000", "410102002001", "410102002002"} and none == []


# --- the event list -----------------------------------------------------------------------------------

async def test_one_event_list_query(sessions):
    async with sessions() as session, session.begin():
        session.add_all([
            Event(kind="rainfall", name="a", status="closed", started_at=datetime(2025, 12, 31, 15, tzinfo=UTC),
                  opened_by="t"),
            Event(kind="rainfall", name="b", status="open", started_at=datetime(2025, 12, 31, 17, tzinfo=UTC),
                  opened_by="t"),
            Event(kind="snow_ice", name="c", status="closed", started_at=datetime(2026, 2, 1, tzinfo=UTC),
                  opened_by="t"),
        ])
    async with sessions() as session:
        async def names(**filters):
            return [event.name for event in (await session.execute(select_events(**filters))).scalars()]
        assert await names() == ["c", "b", "a"]
        assert await names(year=2026) == ["c", "b"]
        assert await names(year=2025) == ["a"]
        assert await names(year=2026, kind="rainfall", status="open") == ["b"]
