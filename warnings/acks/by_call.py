"""叫应 by telephone: a voice gateway's call result recorded on its call, and key 1 acknowledging the
notification exactly as its link does (via "voice")."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.acks.acknowledging import acknowledge_notification
from fangxun.warnings.delivery.calls import record_result
from fangxun.warnings.delivery.channels.voice_protocol import CallReport, call_outcome
from fangxun.warnings.tables import Notification

VIA_VOICE = "voice"


class CallAnswer(NamedTuple):
    """What a result callback did: whether it was the call's first (a repeat records nothing), the status
    stored on the call, whether this callback acknowledged the notification."""

    notification_id: int
    recorded: bool
    status: str
    acknowledged: bool


async def answer_call(session: AsyncSession, channel: str, report: CallReport, raw: str, now: datetime,
                      min_heard_seconds: float) -> CallAnswer | None:
    """Record `report` on its call of `channel` and acknowledge on key 1; None when no such call exists.

    Only a call's first result counts, and results only ever add: a late result of an older call never
    takes back an acknowledgement (record_ack keeps the first answer).
    """
    outcome = call_outcome(report, min_heard_seconds)
    recorded = await record_result(session, channel, report, outcome, raw, now)
    if recorded is None:
        return None
    acknowledged = recorded.first and outcome.acknowledges
    if acknowledged:
        notification = await session.get(Notification, recorded.notification_id)
        await acknowledge_notification(session, notification, now, VIA_VOICE)
    return CallAnswer(recorded.notification_id, recorded.first, recorded.status, acknowledged)
