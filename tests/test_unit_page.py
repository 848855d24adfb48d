"""The printable contact sheet /units/{code} on SQLite and PostgreSQL: content, escaping, sign-in."""

import re

import pytest
from support.api_fixtures import PASSWORD, sign_in
from support.map_registry import (CITY, EAST, HOSTILE_PERSON, HOSTILE_SHELTER, HOSTILE_TITLE, JIA, T1, T2, WEST,
                                  add_map_registry)


@pytest.fixture
async def registry(sessions, settings, today):
    async with sessions() as session, session.begin():
        return await add_map_registry(session, settings, today)


@pytest.fixture
async def signed_in(client, user, registry):
    assert (await sign_in(client, user, PASSWORD)).status == 303
    return client


async def _page(client, code: str) -> str:
    response = await client.get(f"/units/{code}")
    assert response.status == 200 and response.content_type == "text/html"
    return await response.text()


async def test_signed_out_is_sent_to_sign_in(client, registry):
    response = await client.get(f"/units/{EAST}", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == f"/login?next=/units/{EAST}"


async def test_contact_sheet_of_a_village(signed_in):
    page = await _page(signed_in, EAST)
    # Breadcrumb: overview, city, district, township, then the unit itself.
    crumbs = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', page).group(1)
    assert re.findall(r'href="([^"]+)"', crumbs) == ["/", f"/units/{CITY}", f"/units/{JIA}", f"/units/{T2}"]
    assert ["测试市", "甲区", "二号镇", "东村"] == re.findall(r">([^<>›]+)</(?:a|span)>", crumbs)[1:]
    assert "东村联系单" in page and EAST in page and "村社区" in page and "打印日期 2026-06-01" in page
    assert "@media print" in page and "示意边界（非真实界线）" in page
    # Plans with status, dates and version.
    assert "防汛应急预案" in page and "紧急避险安置预案" in page
    assert "2025-01-01" in page and "2028-01-01" in page and "1.0" in page
    assert '<span class="status status-current">有效' in page
    # Persons with formatted phones, shelters with capacity and address.
    assert "139-0000-1234" in page and 'href="tel:13900001234"' in page and "李四" in page and "037160000001" in page
    assert ">300<" in page and "东村村委会" in page
    assert "没有下级区划" in page


async def test_registry_text_is_escaped(signed_in):
    page = await _page(signed_in, EAST)
    for hostile in (HOSTILE_TITLE, HOSTILE_PERSON, HOSTILE_SHELTER):
        assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/script&gt;&lt;b&gt;张三&lt;/b&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;安置点" in page
    assert "<script" not in page


async def test_children_with_their_status_and_gaps(signed_in):
    page = await _page(signed_in, T2)
    assert "缺少有效的：紧急避险安置预案" in page
    assert '<span class="status status-none">无预案' in page
    rows = re.findall(r'<tr><td><a href="/units/(\d+)">[^<]+</a></td><td>\d+</td>'
                      r'<td><span class="status status-(\w+)">', page)
    assert rows == [(EAST, "current"), (WEST, "none")]
    city = await _page(signed_in, CITY)
    assert "下级区划（2 个）" in city and '<span class="status status-due_soon">即将到期' in city
    bare = await _page(signed_in, T1)
    assert "未登记预案" in bare and "一号街道小学避险安置点" in bare and "无坐标安置点" in bare


async def test_unknown_and_malformed_codes(signed_in):
    response = await signed_in.get("/units/410199999999")
    assert response.status == 404 and "410199999999" in await response.text()
    response = await signed_in.get("/units/4101")
    assert response.status == 400
