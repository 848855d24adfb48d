"""Finding units by name with their district, through the API and the query (both databases)."""

import pytest
from support.api_fixtures import bearer
from support.tree import SMALL_TREE, add_units

from fangxun.plans.unit_search import place_labels

# Two townships of the same name in two districts, as 新华路街道 is in Zhengzhou.
TWINS = [*SMALL_TREE,
         ("410102003000", "新华路街道", "410102000000"),
         ("410103003000", "新华路街道", "410103000000"),
         ("410103003001", "新华社区", "410103003000"),
         ("410103004000", "100%_街道", "410103000000")]


@pytest.fixture
async def twins(sessions):
    async with sessions() as session, session.begin():
        await add_units(session, TWINS)


async def test_same_names_are_told_apart_by_district(client, twins, tokens):
    response = await client.get("/api/units/search", params={"q": "新华"}, headers=bearer(tokens["viewer"]))
    assert response.status == 200
    units = (await response.json())["units"]
    assert [(u["label"], u["level_label"]) for u in units] == [
        ("甲区 · 新华路街道", "乡镇街道"), ("乙区 · 新华路街道", "乡镇街道"), ("乙区 · 新华路街道 · 新华社区", "村社区")]
    assert units[2]["district"] == "乙区" and units[2]["township"] == "新华路街道"


async def test_exact_name_first_then_higher_levels(client, twins, tokens):
    units = (await (await client.get("/api/units/search", params={"q": "东村"},
                                     headers=bearer(tokens["viewer"]))).json())["units"]
    assert units[0]["code"] == "410102002001"
    units = (await (await client.get("/api/units/search", params={"q": "区"},
                                     headers=bearer(tokens["viewer"]))).json())["units"]
    assert [u["name"] for u in units[:2]] == ["甲区", "乙区"]


async def test_level_filter_code_prefix_and_literal_wildcards(client, twins, tokens):
    headers = bearer(tokens["viewer"])
    units = (await (await client.get("/api/units/search", params={"q": "新华", "level": "village"},
                                     headers=headers)).json())["units"]
    assert [u["code"] for u in units] == ["410103003001"]
    units = (await (await client.get("/api/units/search", params={"q": "4101020020"}, headers=headers)).json())["units"]
    assert {u["code"] for u in units} == {"410102002000", "410102002001", "410102002002"}
    units = (await (await client.get("/api/units/search", params={"q": "%_"}, headers=headers)).json())["units"]
    assert [u["name"] for u in units] == ["100%_街道"]


async def test_bad_search_is_refused_naming_the_field(client, twins, tokens):
    headers = bearer(tokens["viewer"])
    response = await client.get("/api/units/search", params={"q": "村", "level": "province-x"}, headers=headers)
    body = await response.json()
    assert response.status == 400 and body["field"] == "level" and "未知级别" in body["detail"]
    response = await client.get("/api/units/search", params={"q": "村" * 51}, headers=headers)
    assert response.status == 400
    response = await client.get("/api/units/search", params={"q": "村", "limit": "0"}, headers=headers)
    assert response.status == 400
    assert (await (await client.get("/api/units/search", headers=headers)).json())["units"] == []
    assert (await client.get("/api/units/search", params={"q": "村"})).status == 401


async def test_place_labels(sessions, twins):
    async with sessions() as session:
        labels = await place_labels(session, ["410102003000", "410103003001", "410100000000", "999999999999"])
    assert labels == {"410102003000": "甲区 · 新华路街道", "410103003001": "乙区 · 新华路街道 · 新华社区",
                      "410100000000": "测试市"}
