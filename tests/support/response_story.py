"""An open rainfall event under one active red 暴雨 warning over 一号街道 (a quarter of the test city, whose units
have no boundaries): the default rules propose Ⅱ级 (发布暴雨红色预警); nothing has been decided yet."""

from __future__ import annotations

from datetime import datetime, timedelta

from support.warning_factories import SENDER, STREET_1

from fangxun.warnings.events.tables import Event, EventWarning
from fangxun.warnings.tables import Warning, WarningUnit

RULE = "发布暴雨红色预警"


async def red_over_a_street(session, now: datetime, name: str = "6·1 降雨过程") -> tuple[int, int]:
    """The event and its warning (ids), received 30 minutes before `now`; the unit tree must be there."""
    event = Event(kind="rainfall", name=name, status="open", started_at=now - timedelta(hours=2),
                  opened_by="rule:rainfall")
    session.add(event)
    received = now - timedelta(minutes=30)
    warning = Warning(identifier=f"zz-red-{event.name}", sender=SENDER, sent=received, msg_type="Alert", event="暴雨",
                      colour="red", received_at=received, expires=now + timedelta(hours=12),
                      headline="郑州市气象台发布暴雨红色预警信号")
    session.add(warning)
    await session.flush()
    warning.thread_id = warning.id
    session.add(WarningUnit(warning_id=warning.id, unit_code=STREET_1, level="township", fraction=1.0))
    session.add(EventWarning(warning_id=warning.id, event_id=event.id, joined_at=received))
    await session.flush()
    return event.id, warning.id
