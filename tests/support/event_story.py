"""One rainfall event built straight into the tables, for the event page tests: a red 暴雨 warning and its
orange update, a 大风 warning linked by hand, a Ⅳ级 decision with its notice, 叫应 answers, and journal entries
with a correction. Works whether or not the event grouping of intake.accept links warnings by itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from support.warning_factories import DISTRICT_A, EAST_VILLAGE, NOON, make_warning

from fangxun.core.accounts import Principal
from fangxun.warnings.events.journal import add_entry, parse_entry
from fangxun.warnings.events.tables import Event, EventWarning, ResponseDecision
from fangxun.warnings.intake.accept import RESPONSE_SOURCE, accept
from fangxun.warnings.tables import Notification

HOSTILE = '<script>window.__xss=1</script>转移群众'
EDITOR = Principal("user:duty01", "editor")
WATER = Principal("token:7", "reporter", department="water")
# received at NOON (10:00 Shanghai, sent 09:55); decided 42 minutes later.
DECIDED = NOON + timedelta(minutes=42)


@dataclass
class Story:
    """The ids of what was built."""

    event_id: int = 0
    red: int = 0
    update: int = 0
    wind: int = 0
    notice: int = 0
    decision: int = 0
    entries: dict[str, int] = field(default_factory=dict)
    older_event_id: int = 0


async def link(session, warning_id: int, event_id: int | None, now: datetime) -> int:
    """The event the warning is in: the one grouping chose, or `event_id` (linked by hand)."""
    held = (await session.execute(select(EventWarning.event_id).where(EventWarning.warning_id == warning_id))
            ).scalar_one_or_none()
    if held is not None:
        return held
    session.add(EventWarning(warning_id=warning_id, event_id=event_id, joined_at=now, joined_by="user:duty01"))
    await session.flush()
    return event_id


async def _event(session, name: str, started: datetime, status: str = "open") -> int:
    event = Event(kind="rainfall", name=name, status=status, started_at=started, opened_by="user:duty01",
                  ended_at=started + timedelta(days=1) if status == "closed" else None,
                  close_reason="manual" if status == "closed" else None)
    session.add(event)
    await session.flush()
    return event.id


async def acknowledge(session, warning_id: int, how_many: int, at: datetime) -> None:
    """Mark the first `how_many` pending notices of a warning delivered and acknowledged."""
    ids = (await session.execute(select(Notification.id).where(
        Notification.warning_id == warning_id, Notification.status == "pending").order_by(Notification.id)
        .limit(how_many))).scalars().all()
    await session.execute(update(Notification).where(Notification.id.in_(ids)).values(
        status="delivered", delivered_at=at, acked_at=at, acked_via="link"))


async def build_story(session, config) -> Story:
    """Everything of the module docstring, in one transaction of the caller."""
    story = Story()
    story.older_event_id = await _event(session, "2026年5月12日降雨过程", NOON - timedelta(days=20), "closed")
    red = await accept(session, make_warning("zz-2026-0101"), config, NOON)
    story.red = red.warning.id
    own = red.event_id
    if own is None:
        own = await _event(session, "2026年6月1日降雨过程", NOON - timedelta(minutes=5))
    story.event_id = await link(session, story.red, own, NOON)
    await acknowledge(session, story.red, 4, NOON + timedelta(minutes=10))
    upd = await accept(session, make_warning("zz-2026-0102", msg_type="Update", colour="orange",
                                             sent=NOON + timedelta(minutes=85), references=(make_warning(
                                                 "zz-2026-0101"),)), config, NOON + timedelta(minutes=90))
    story.update = upd.warning.id
    await link(session, story.update, story.event_id, NOON + timedelta(minutes=90))
    wind = await accept(session, make_warning("zz-2026-0103", event="大风", colour="blue",
                                              sent=NOON + timedelta(minutes=20)), config, NOON + timedelta(minutes=20))
    story.wind = wind.warning.id
    await link(session, story.wind, story.event_id, NOON + timedelta(minutes=20))

    notice = await accept(session, make_warning("resp-2026-0001", event="防汛应急响应", colour=None,
                                                sent=DECIDED), config, DECIDED, source=RESPONSE_SOURCE)
    story.notice = notice.warning.id
    await acknowledge(session, story.notice, 1, DECIDED + timedelta(minutes=3))
    decision = ResponseDecision(
        event_id=story.event_id, action="activate", level=4, previous_level=None, proposed_level=4,
        proposal_rule="暴雨黄色及以上预警", trigger_warning_id=story.red, trigger_at=NOON, decided_by="市防指 王指挥",
        decided_at=DECIDED, recorded_by="user:duty01", recorded_at=DECIDED + timedelta(minutes=2),
        note="会商研判后启动", notice_warning_id=story.notice)
    session.add(decision)
    await session.flush()
    story.decision = decision.id

    async def entry(key: str, data: dict, principal: Principal, minutes: int) -> None:
        fields = parse_entry(data, config.warnings.departments)
        row = await add_entry(session, story.event_id, fields, principal, config, NOON + timedelta(minutes=minutes))
        story.entries[key] = row.id

    await entry("first", {"department": "water", "unit_code": DISTRICT_A, "action": "转移甲区低洼地带群众",
                          "figures": {"evacuated": 300, "shelters_opened": 2, "housed": 120}}, WATER, 60)
    await entry("hostile", {"unit_code": EAST_VILLAGE, "action": HOSTILE, "figures": {"rescues": 1, "deaths": 0},
                            "text": "东村报告"}, EDITOR, 70)
    await entry("fixed", {"department": "water", "unit_code": DISTRICT_A, "action": "转移甲区低洼地带群众（更正）",
                          "corrects_id": story.entries["first"],
                          "figures": {"evacuated": 320, "shelters_opened": 2, "housed": 150}}, WATER, 100)
    await entry("loss", {"department": "emergency", "action": "初步核定直接经济损失",
                         "figures": {"economic_loss": 85.5, "injured": 2}}, EDITOR, 110)
    return story
