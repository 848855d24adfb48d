"""叫应 by telephone: a voice gateway's call result recorded on its call, and key 1 acknowledging the
notification exactly as its link does (via "voice")."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.warnings.acks.acknowledging import acknowledge_rows
from fangxun.warnings.delivery.calls import Result, record_results
from fangxun.warnings.delivery.channels.voice_protocol import CallReport, call_outcome

VIA_VOICE = "voice"


class CallAnswer(NamedTuple):
    """What a result callback did: whether it was the call's first (a repeat records nothing), the status
    stored on the call, whether this callback acknowledged the notification."""

    notification_id: int
    recorded: bool
    status: str
    acknowledged: bool


class CallResult(NamedTuple):
    """A result callback as received: on which channel, the report, its body, the channel's min_heard_seconds."""

    channel: str
    report: CallReport
    raw: str
    min_heard_seconds: float


async def answer_calls(session: AsyncSession, results: list[CallResult], now: datetime) -> list[CallAnswer | None]:
    """Record each result on its call and acknowledge on key 1 (None where no such call exists), a few
    statements for the lot.

    Only a call's first result counts, and results only ever add: a late result of an older call never takes
    back an acknowledgement (an earlier answer stands).
    """
    outcomes = [call_outcome(result.report, result.min_heard_seconds) for result in results]
    recorded = await record_results(session, [Result(result.channel, result.report, outcome, result.raw)
                                              for result, outcome in zip(results, outcomes, strict=True)], now)
    answers: list[CallAnswer | None] = []
    for outcome, record in zip(outcomes, recorded, strict=True):
        answers.append(None if record is None else CallAnswer(record.notification_id, record.first, record.status,
                                                              record.first and outcome.acknowledges))
    acknowledged = {record.notification.id: record.notification for answer, record in zip(answers, recorded)
                    if answer is not None and answer.acknowledged}
    if acknowledged:
        await acknowledge_rows(session, list(acknowledged.values()), now, VIA_VOICE)
    return answers


async def answer_call(session: AsyncSession, result: CallResult, now: datetime) -> CallAnswer | None:
    """answer_calls for one result."""
    return (await answer_calls(session, [result], now))[0]
