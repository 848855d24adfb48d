"""/events and /events/{id}: the list of events, and one event as one chronological, printable timeline."""

from __future__ import annotations

import re

import pytest
from support.api_fixtures import PASSWORD, sign_in
from support.event_story import HOSTILE, build_story
from support.warning_factories import NOON, warning_settings

from fangxun.api.event_page import duration_text, local_time
from fangxun.warnings.events.tables import Event
from fangxun.warnings.events.timeline import event_timeline, notification_summary

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture
def config(settings):
    return warning_settings(settings, HOOK)


@pytest.fixture
async def story(sessions, config, registry):
    async with sessions() as session, session.begin():
        return await build_story(session, config)


def test_durations_and_times_read_as_people_write_them():
    assert [duration_text(s) for s in (42 * 60, 125 * 60, 27 * 3600, 48 * 3600, 20)] == [
        "42 分钟", "2 小时 5 分钟", "1 天 3 小时", "2 天", "0 分钟"]
    assert local_time(NOON, "Asia/Shanghai") == "2026-06-01 10:00" and local_time(None, "Asia/Shanghai") == ""


def test_the_ack_rate_leaves_out_cancelled_notices():
    counts = {"total": 10, "cancelled": 2, "pending": 1, "delivered": 2, "acknowledged": 4, "escalated": 0,
              "failed": 1, "dead": 0, "overdue": 1, "acknowledged_late": 0}
    assert notification_summary(counts) == {"sent": 8, "pending": 1, "delivered": 2, "acknowledged": 4,
                                            "escalated": 0, "failed": 1, "overdue": 1, "ack_rate": 0.5}


async def test_the_timeline_merges_everything_in_time_order(sessions, config, story):
    async with sessions() as session:
        timeline = await event_timeline(session, story.event_id, config, NOON)
    order = [(item["type"], item["id"]) for item in timeline["items"]]
    e = story.entries
    assert order == [("warning", story.red), ("warning", story.wind), ("decision", story.decision),
                     ("journal", e["first"]), ("journal", e["hostile"]), ("warning", story.update),
                     ("journal", e["fixed"]), ("journal", e["loss"])]
    items = {(item["type"], item["id"]): item for item in timeline["items"]}
    decision = items["decision", story.decision]
    assert decision["seconds_to_decide"] == 42 * 60 and decision["level_label"] == "Ⅳ级"
    # The notice went to the emergency desk only (the default route) and was answered.
    assert decision["notifications"]["sent"] == 1 and decision["notifications"]["acknowledged"] == 1
    assert decision["notifications"]["ack_rate"] == 1.0
    assert [d["name"] for d in timeline["districts"]] == ["甲区", "乙区"]
    assert items["journal", e["first"]]["corrected_by"] == e["fixed"]
    assert timeline["totals"] == {"evacuated": 320, "shelters_opened": 2, "housed": 150, "roads_closed": None,
                                  "rescues": 1, "deaths": 0, "missing": None, "injured": 2, "economic_loss": 85.5}
    assert timeline["current_level_label"] == "Ⅳ级"


async def _page(client, user, path):
    await sign_in(client, user, PASSWORD)
    response = await client.get(path)
    return response, await response.text()


async def test_the_event_list_is_newest_first_with_counts(client, sessions, user, story):
    response, html = await _page(client, user, "/events")
    assert response.status == 200
    ids = [int(i) for i in re.findall(r'<tr data-event-id="(\d+)">', html)]
    assert ids == [story.event_id, story.older_event_id]
    row = html.split(f'<tr data-event-id="{story.event_id}">')[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == "降雨过程" and "进行中" in cells[4] and cells[5] == "Ⅳ级"
    assert cells[6:] == ["3", "1", "4"]  # warnings, decisions, journal entries
    older = html.split(f'<tr data-event-id="{story.older_event_id}">')[1].split("</tr>")[0]
    assert "2026年5月12日降雨过程" in older and "已结束" in older and "2026-05-12 10:00" in older


async def test_the_event_page_shows_one_timeline_and_the_totals(client, sessions, user, story):
    response, html = await _page(client, user, f"/events/{story.event_id}")
    assert response.status == 200
    async with sessions() as session:
        event = await session.get(Event, story.event_id)
    assert f"<h2>{event.name}</h2>" in html
    assert f"<dt>开始</dt><dd>{local_time(event.started_at, 'Asia/Shanghai')}</dd>" in html
    assert "<dt>类型</dt><dd>降雨过程</dd>" in html and "<dt>影响区县</dt><dd>甲区、乙区</dd>" in html
    kinds = re.findall(r'<li class="item item-\w+[^"]*" id="(\w+-\d+)"', html)
    e = story.entries
    assert kinds == [f"warning-{story.red}", f"warning-{story.wind}", f"decision-{story.decision}",
                     f"entry-{e['first']}", f"entry-{e['hostile']}", f"warning-{story.update}",
                     f"entry-{e['fixed']}", f"entry-{e['loss']}"]
    red = _item(html, f"warning-{story.red}")
    assert "<time>2026-06-01 09:55</time>" in red and "暴雨红色</span>" in red and ">发布</span>" in red
    # 12 notices: 4 answered, 1 unreachable, the 7 unanswered cancelled by the update (they are told again).
    assert _acks(red) == {"sent": "5", "pending": "0", "delivered": "0", "acknowledged": "4", "escalated": "0",
                          "failed": "1", "rate": "80%"}
    assert _acks(_item(html, f"warning-{story.update}"))["sent"] == "12"
    assert "暴雨橙色" in _item(html, f"warning-{story.update}") and ">更新<" in _item(html, f"warning-{story.update}")
    assert "大风蓝色" in _item(html, f"warning-{story.wind}")
    decision = _item(html, f"decision-{story.decision}")
    assert "<time>2026-06-01 10:42</time>" in decision and "启动Ⅳ级应急响应" in decision
    assert "预警发布后 42 分钟决策" in decision and "决策人：市防指 王指挥" in decision
    assert "记录人：duty01" in decision
    assert _acks(decision) == {"sent": "1", "pending": "0", "delivered": "0", "acknowledged": "1", "escalated": "0",
                               "failed": "0", "rate": "100%"}
    first = _item(html, f"entry-{e['first']}")
    assert f'已更正，见 <a href="#entry-{e["fixed"]}">条目 #{e["fixed"]}</a>' in first
    assert "转移人数 300" in first and "市水利局，甲区" in first
    fixed = _item(html, f"entry-{e['fixed']}")
    assert f'更正 <a href="#entry-{e["first"]}">' in fixed and "已更正" not in fixed
    assert "直接经济损失（万元） 85.5" in _item(html, f"entry-{e['loss']}")
    assert HOSTILE not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    totals = dict(re.findall(r'<tr data-total="(\w+)"><td>[^<]*</td><td class="n">([^<]*)</td>', html))
    assert totals == {"evacuated": "320", "shelters_opened": "2", "housed": "150", "roads_closed": "未上报",
                      "rescues": "1", "deaths": "0", "missing": "未上报", "injured": "2", "economic_loss": "85.5"}
    assert html.index('id="totals"') > html.index(f'id="entry-{e["loss"]}"')
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "script-src 'self';" in policy
    assert 'id="print-button"' in html and '<script src="/static/event/print.js" defer>' in html


def _acks(item: str) -> dict[str, str]:
    return dict(re.findall(r'data-ack="(\w+)">[^<]*<b>([^<]*)</b>', item))


def _item(html: str, anchor: str) -> str:
    """The timeline item with this id, up to the next item."""
    return re.split(r'<li class="item |</ol>', html.split(f'id="{anchor}"')[1])[0]


async def test_the_print_assets_are_served(client, user, story):
    await sign_in(client, user, PASSWORD)
    css = await client.get("/static/event/event.css")
    assert css.status == 200 and "@media print" in await css.text()
    script = await client.get("/static/event/print.js")
    assert script.status == 200 and "window.print()" in await script.text()


async def test_a_missing_event_is_a_404_page(client, user, story):
    response, html = await _page(client, user, f"/events/{story.event_id + 100}")
    assert response.status == 404 and f"事件 {story.event_id + 100} 不存在" in html


async def test_the_pages_need_a_signed_in_user(client, story):
    response = await client.get(f"/events/{story.event_id}", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")

