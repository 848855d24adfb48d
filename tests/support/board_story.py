"""A red warning's story for the duty board's tests: acknowledged, undeliverable, reminded, escalated, then lifted."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import update
from support.warning_factories import NOON, add_registry, make_warning, notifications

from fangxun.core.accounts import signing_secret
from fangxun.warnings.acks.acknowledging import acknowledge
from fangxun.warnings.acks.escalation import escalate_due
from fangxun.warnings.acks.tokens import ack_token
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification


async def dispatch(sessions, config, clock) -> None:
    """Send everything due through the configured channels at the clock's time."""
    async with new_http_session(config.warnings.channels) as http:
        await Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                         rng=random.Random(2)).run_until_idle()


class Story:
    """A red warning at 10:00: 东村支书 acknowledges; the robot of 二号镇副镇长 fails for good; at 10:16 the others are
    reminded (new deadline 10:31), at 10:32 escalated; at 10:40 the warning is lifted (解除)."""

    def __init__(self, sessions, config, clock):
        self.sessions, self.config, self.clock = sessions, config, clock

    async def alert(self) -> None:
        async with self.sessions() as session, session.begin():
            await add_registry(session)
        self.document = make_warning("story", sent=NOON)
        self.alert_id = (await ingest(self.sessions, self.document, self.config, NOON)).warning.id
        await dispatch(self.sessions, self.config, self.clock)
        async with self.sessions() as session, session.begin():
            self.rows = {row.recipient_name: row for row in await notifications(session, self.alert_id)}
            secret = await signing_secret(session)
            await acknowledge(session, ack_token(secret, self.rows["东村支书"].idempotency_key),
                              NOON + timedelta(minutes=3), "page")
            await session.execute(update(Notification).where(Notification.id == self.rows["二号镇副镇长"].id)
                                  .values(status="dead", last_error="HTTP 500 机器人地址失效", delivered_at=None,
                                          ack_deadline=None))

    async def step(self, minutes: int) -> int:
        """Move the clock, remind or escalate what is due, deliver it; the rows made."""
        self.clock.advance(minutes=minutes)
        async with self.sessions() as session, session.begin():
            made = await escalate_due(session, self.clock.now(), self.config)
        await dispatch(self.sessions, self.config, self.clock)
        return made

    async def lift(self) -> None:
        self.clock.advance(minutes=8)
        cancel = make_warning("story-lifted", msg_type="Cancel", colour=None, references=(self.document,),
                              geocodes=(), sent=self.clock.now(), description="暴雨红色预警解除。")
        self.cancel_id = (await ingest(self.sessions, cancel, self.config, self.clock.now())).warning.id
        await dispatch(self.sessions, self.config, self.clock)

    async def run(self) -> Story:
        await self.alert()
        assert await self.step(16) > 0  # reminders
        assert await self.step(16) > 0  # escalations
        await self.lift()
        return self
