"""Reminder waves: a pass made a chunk per transaction, never two at once, and sent after every first notice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event
from support.warning_factories import NOON, make_warning, notifications, warning_settings

from fangxun.warnings.acks.escalation import chunks_by_group
from fangxun.warnings.acks.waves import run_pass
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.delivery.outbox import Claimed, claim
from fangxun.warnings.delivery.pipeline import Pipeline
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.scheduler import WarningJobs
from fangxun.warnings.vocabulary import PRIORITIES, priority

REACHABLE = 11  # the red warning's notices that have an address (one 责任人 has none: escalated at once)
PAST_RED_DEADLINE = timedelta(minutes=16)


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


async def _delivered_warning(sessions, config, clock) -> int:
    """A red warning delivered at noon to every reachable recipient, nobody answering; its id."""
    result = await ingest(sessions, make_warning(), config, NOON)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                                rng=random.Random(4))
        assert await dispatcher.run_until_idle() == REACHABLE
    return result.warning.id


async def _follow_ups(sessions, warning_id: int) -> list:
    async with sessions() as session:
        return [row for row in await notifications(session, warning_id) if row.purpose != "notice"]


async def test_a_pass_over_more_rows_than_a_chunk_makes_each_follow_up_once_in_several_transactions(
        engine, sessions, config, clock, registry):
    warning_id = await _delivered_warning(sessions, config, clock)
    commits = []

    def committed(connection):
        commits.append(connection)

    event.listen(engine.sync_engine, "commit", committed)
    created = await run_pass(sessions, NOON + PAST_RED_DEADLINE, config, rows_per_chunk=4)
    event.remove(engine.sync_engine, "commit", committed)

    follow_ups = await _follow_ups(sessions, warning_id)
    reminders = Counter(row.escalated_from_id for row in follow_ups if row.purpose == "reminder")
    assert created == len(follow_ups) == REACHABLE + 1
    assert len(reminders) == REACHABLE and set(reminders.values()) == {1}
    assert [row.purpose for row in follow_ups].count("escalation") == 1
    # The ids are read in one transaction, then 12 candidates four at a time: three more.
    assert len(commits) == 4
    # A second pass finds everything taken.
    assert await run_pass(sessions, NOON + PAST_RED_DEADLINE, config, rows_per_chunk=4) == 0
    assert len(await _follow_ups(sessions, warning_id)) == created


async def test_a_pass_in_chunks_makes_what_one_transaction_makes(sessions, config, clock, registry):
    from fangxun.warnings.acks.escalation import escalate_due

    warning_id = await _delivered_warning(sessions, config, clock)
    async with sessions() as session, session.begin():
        at_once = await escalate_due(session, NOON + PAST_RED_DEADLINE, config)
    made = {(row.purpose, row.recipient_key, row.escalated_from_id) for row in await _follow_ups(sessions, warning_id)}
    assert at_once == len(made) == REACHABLE + 1
    assert await run_pass(sessions, NOON + PAST_RED_DEADLINE, config, rows_per_chunk=1) == 0


async def test_follow_ups_are_claimed_after_the_first_notices_of_a_later_warning(sessions, config, clock, registry):
    await _delivered_warning(sessions, config, clock)
    now = NOON + PAST_RED_DEADLINE
    assert await run_pass(sessions, now, config, rows_per_chunk=4) == REACHABLE + 1
    # A yellow warning written after the red wave: its first notices still go first.
    later = await ingest(sessions, make_warning("zz-2026-0002", colour="yellow", sent=now), config, now)
    async with sessions() as session:
        fresh = [row for row in await notifications(session, later.warning.id) if row.status == "pending"]
    assert fresh and {row.priority for row in fresh} == {PRIORITIES["yellow"]}
    async with sessions() as session, session.begin():
        first = await claim(session, "w1", now, len(fresh), timedelta(minutes=1))
        rest = await claim(session, "w1", now, 100, timedelta(minutes=1))
    assert {(row.warning_id, row.purpose) for row in first} == {(later.warning.id, "notice")}
    assert len(rest) == REACHABLE + 1 and {row.purpose for row in rest} == {"reminder", "escalation"}
    assert [row.priority for row in rest] == sorted(row.priority for row in rest)


async def test_a_pass_started_while_one_is_running_does_nothing(sessions, config, clock, registry):
    warning_id = await _delivered_warning(sessions, config, clock)
    clock.advance(minutes=16)
    jobs = WarningJobs(sessions, config, clock)
    running = asyncio.create_task(jobs.escalate())
    await asyncio.sleep(0)  # the first pass is under way, waiting on the database
    assert await jobs.escalate() == 0
    assert not running.done()
    assert await asyncio.wait_for(running, 30) == REACHABLE + 1
    assert len(await _follow_ups(sessions, warning_id)) == REACHABLE + 1


async def test_the_next_pass_runs_once_the_previous_one_has_finished(sessions, config, clock, registry):
    warning_id = await _delivered_warning(sessions, config, clock)
    jobs = WarningJobs(sessions, config, clock)
    assert await jobs.escalate() == 1  # the unreachable 责任人, at once
    clock.advance(minutes=16)
    assert await jobs.escalate() == REACHABLE
    assert len(await _follow_ups(sessions, warning_id)) == REACHABLE + 1


async def test_a_first_notice_handed_to_the_dispatcher_goes_ahead_of_queued_reminders():
    async def send(row):
        raise AssertionError("not sent here")

    state = Pipeline(send, {"hook": 2})
    reminders = [_claimed(number, priority(colour="red", purpose="reminder")) for number in range(1, 6)]
    notice = _claimed(9, priority(colour="blue"))
    for row in reminders:
        state.enqueue(row, "hook")
    state.enqueue(notice, "hook")
    try:
        assert [row.id for row in state.take_to_begin()["hook"]] == [9, 1, 2, 3]
        state.put_back({"hook": [notice, reminders[0]]})
        assert [row.id for row in state.queued["hook"]] == [9, 1, 4, 5] and len(state.queued["hook"]) == 4
    finally:
        await state.close()


def _claimed(number: int, rank: int) -> Claimed:
    return Claimed(number, 1, "hook", f"addr-{number}", "某人", {}, f"k-{number}", 0, "notice", rank)


def test_rows_that_escalate_to_the_same_people_stay_in_one_chunk():
    keyed = [(("w1", 0, "person", "township-a"), 1), (("w1", 0, "person", "township-a"), 2),
             (("w1", 0, "person", "township-a"), 3), (("w1", 0, "person", "township-b"), 4),
             (("w1", 0, "water", "water"), 5)]
    assert chunks_by_group(keyed, 2) == [[1, 2, 3], [4, 5]]
    assert chunks_by_group(keyed, 1) == [[1, 2, 3], [4], [5]]
    assert chunks_by_group(keyed, 10) == [[1, 2, 3, 4, 5]]
    assert chunks_by_group([], 3) == []


async def test_a_pass_one_row_at_a_time_still_escalates_silent_persons_with_one_parent_in_one_message(
        sessions, config, clock, registry):
    warning_id = await _delivered_warning(sessions, config, clock)
    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, clock, "t1",
                                rng=random.Random(4))
        for minutes in range(16, 136, 15):  # nobody ever answers: reminders, then up the chain to the city desk
            clock.moved[0] = timedelta(minutes=minutes)
            await run_pass(sessions, clock.now(), config, rows_per_chunk=1)
            await dispatcher.run_until_idle()
    escalations = [row for row in await _follow_ups(sessions, warning_id) if row.purpose == "escalation"]
    # The two district persons reach the city desk together: one message naming both, though each chunk was one row.
    assert len(escalations) > 2
    assert any(len(row.payload.get("escalated_from_ids", ())) > 1 for row in escalations)
