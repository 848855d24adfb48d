"""Which event a newly accepted warning belongs to: join the open event of its kind, or open one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.settings import Settings
from fangxun.warnings.events.event_rules import GROUPED_CAP_STATUSES, opens_event, start_of
from fangxun.warnings.events.event_store import (event_of_thread, link_thread, lock_events, open_event,
                                                 open_event_of_kind, reopen_event)
from fangxun.warnings.tables import Warning


async def attach_warning(session: AsyncSession, warning: Warning, settings: Settings, now: datetime) -> int | None:
    """Link `warning` (just stored, flushed, thread_id set) to its event, opening one if the rules say so.

    Called by intake.accept inside its transaction. Returns the event id, or None.

    A message whose thread is already in an event joins that event, whatever its kind; if that event
    was closed and the message is an Alert or Update in force, the event is reopened (the process went
    on). Otherwise it joins the open event of its kind, or opens one when it qualifies (see
    event_rules.opens_event). A Cancel of a thread in no event joins nothing. Every message of the
    thread not yet in an event is linked with it.
    """
    kind = settings.events.kind_of(warning.event)
    if kind is None or warning.cap_status not in GROUPED_CAP_STATUSES:
        return None
    await lock_events(session)
    thread_id = warning.thread_id or warning.id
    event = await event_of_thread(session, thread_id)
    if event is None and warning.msg_type != "Cancel":
        event = await open_event_of_kind(session, kind)
        if event is None:
            if not opens_event(settings.events.kinds[kind], warning.event, warning.colour, warning.msg_type,
                               warning.status):
                return None
            event = await open_event(
                session, settings, kind, started_at=start_of(warning.onset, warning.sent, warning.received_at),
                name_day=warning.onset or warning.sent, opened_by=f"rule:{kind}", opening_warning_id=warning.id)
    elif event is not None and event.status == "closed" and warning.msg_type != "Cancel" and warning.status == "active":
        await reopen_event(session, event, f"rule:{kind}", warning.id)
    if event is None:
        return None
    await link_thread(session, event.id, thread_id, "rule", now)
    return event.id
