"""A DingTalk robot that sent too fast is blocked by DingTalk for 10 minutes: its messages wait out the block
(the gate pauses, the rows are retried after it) and the board says how many wait and when sending resumes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from support.sinks import Sink, http_fixture, sink_fixture  # noqa: F401 (fixtures)
from support.warning_factories import NOON, make_warning, notifications, registry, warning_settings  # noqa: F401

from fangxun.warnings.delivery.backlog import held_back_lines
from fangxun.warnings.delivery.channels.base import OutgoingMessage
from fangxun.warnings.delivery.channels.dingtalk import BLOCKED_SECONDS, DingTalkChannel
from fangxun.warnings.delivery.channels.gate import Gate
from fangxun.warnings.delivery.channels.gated import GatedChannel
from fangxun.warnings.delivery.limits import BLOCKED_MARK
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.tables import Notification

TOO_FAST = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}


def _message(key: str) -> OutgoingMessage:
    return OutgoingMessage("市水利局", "", "【暴雨红色预警】", "正文", "", key)


async def test_the_gate_waits_out_the_block_before_the_next_message(http):
    async with Sink() as sink:
        sink.script(200, json=TOO_FAST)
        moments = [1000.0]
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            moments[0] += seconds

        gate = Gate(1, clock=lambda: moments[0], sleep=sleep)
        channel = GatedChannel(DingTalkChannel("ding", http, sink.url_for("/robot/send", access_token="t")), gate)
        first = await channel.send(_message("k1"))
        assert (first.ok, first.retry, first.retry_after) == (False, True, BLOCKED_SECONDS)
        assert first.detail.startswith(BLOCKED_MARK) and "130101" in first.detail
        second = await channel.send(_message("k2"))
    assert second.ok and slept == [BLOCKED_SECONDS] and len(sink.requests) == 2


async def test_the_board_says_the_robot_is_blocked_until_when(sessions, settings, registry):
    config = warning_settings(settings, "http://127.0.0.1:9/hook")
    warning = await ingest(sessions, make_warning("blocked"), config, NOON)
    resume = NOON + timedelta(seconds=BLOCKED_SECONDS)
    async with sessions() as session, session.begin():
        rows = await notifications(session, warning.warning.id)
        held = [row.id for row in rows[:3]]
        await session.execute(update(Notification).where(Notification.id.in_(held)).values(
            status="pending", attempts=1, next_attempt_at=resume,
            last_error=BLOCKED_MARK + "errcode 130101: send too fast"))
    async with sessions() as session:
        lines = await held_back_lines(session, config.warnings.channels, NOON)
        later = await held_back_lines(session, config.warnings.channels, resume + timedelta(seconds=1))
    (line,) = [line for line in lines if line.get("blocked")]
    assert (line["channel"], line["waiting"], line["until"]) == ("hook", 3, resume.isoformat())
    assert not [line for line in later if line.get("blocked")]  # once the block is over, the line goes
