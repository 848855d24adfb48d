"""叫应 by token: finding a token's notification and acknowledging it (the rows are written by delivery.notices)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.errors import NotFound
from fangxun.warnings.acks.tokens import TOKEN_PATTERN, token_hash
from fangxun.warnings.delivery.notices import record_ack, record_acks
from fangxun.warnings.tables import Notification

log = logging.getLogger(__name__)


async def find_by_token(session: AsyncSession, token: str) -> Notification:
    """The notification of an ack token; NotFound for a malformed or unknown one."""
    if not TOKEN_PATTERN.match(token or ""):
        raise NotFound("确认链接无效")
    row = (await session.execute(
        select(Notification).where(Notification.ack_token_hash == token_hash(token)))).scalar_one_or_none()
    if row is None:
        raise NotFound("确认链接无效或已过期")
    return row


async def acknowledge(session: AsyncSession, token: str, now: datetime, via: str) -> Notification:
    """Record 叫应 for the token's notification (idempotent; after the deadline it counts, flagged late).

    Acknowledging a reminder answers the notification it repeats, and the other way round; reminders
    not yet sent are then cancelled.
    """
    return await acknowledge_notification(session, await find_by_token(session, token), now, via)


async def acknowledge_notification(session: AsyncSession, notification: Notification, now: datetime,
                                   via: str) -> Notification:
    """Record 叫应 for `notification` as its link does (idempotent: an earlier answer stands), whichever way it
    came (the page, the API, a key pressed on a call)."""
    if notification.acked_at is not None:
        return notification
    await record_ack(session, notification, now, via)
    await session.refresh(notification)
    log.info("notification %s acknowledged via %s%s", notification.id, via, " (late)" if notification.acked_late else "",
             extra={"notification_id": notification.id, "warning_id": notification.warning_id})
    return notification


async def acknowledge_rows(session: AsyncSession, rows: Sequence, now: datetime, via: str) -> None:
    """acknowledge_notification for each of `rows` (id, purpose, escalated_from_id and acked_at of notifications,
    as read in this transaction), many at once: a batch of key presses."""
    unanswered = [row for row in rows if row.acked_at is None]
    if unanswered:
        await record_acks(session, unanswered, now, via)
