"""Writing a warning's notifications in chunks after its acceptance (intake/expansion.py), on both databases: the
most urgent first, a crash after some chunks (or before the named units are copied) resumed without losing or
doubling anyone, one writer at a time, and a Cancel or Update stopping the writing of what it ends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.warning_factories import CITY, NOON, add_wide_registry, make_warning, warning_settings

from fangxun.core.clock import Clock
from fangxun.warnings.delivery import notices
from fangxun.warnings.delivery.channels.factory import build_channels, new_http_session
from fangxun.warnings.delivery.dispatcher import Dispatcher
from fangxun.warnings.intake import accept, pending_units
from fangxun.warnings.intake.accept import ingest
from fangxun.warnings.intake.expansion import Expansion
from fangxun.warnings.intake.expansion_runner import ExpansionRunner
from fangxun.warnings.intake.expansion_store import EXPANSION_LEASE
from fangxun.warnings.intake.fanout import fan_out, staff_desks
from fangxun.warnings.intake.lifecycle import CANCELLED_REASON, SUPERSEDED_REASON
from fangxun.warnings.intake.placing import place
from fangxun.warnings.routing import urgency
from fangxun.warnings.routing.urgency import urgency_rank
from fangxun.warnings.tables import Notification, WarningExpansion, WarningUnit

DEPARTMENTS = 3
LATER = NOON + EXPANSION_LEASE * 2  # the crashed writer's lease has lapsed


@pytest.fixture
def config(settings, sink):
    return warning_settings(settings, sink.url_for("/hook"))


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks and segments of a few rows, so that the small registry takes many of them."""
    monkeypatch.setattr(urgency, "SECOND_CHUNK", 20)
    monkeypatch.setattr(urgency, "LATER_CHUNK", 50)
    monkeypatch.setattr(urgency, "UNITS_PER_SEGMENT", 40)


@pytest.fixture
async def persons(sessions):
    async with sessions() as session, session.begin():
        return await add_wide_registry(session)  # 1 district, 10 townships, 300 villages: one person each


class Recorder:
    """A handoff that keeps what it is given, in order (it sends nothing)."""

    worker_id = "recorder"
    lease = timedelta(seconds=120)

    def __init__(self):
        self.taken: list[list[int]] = []

    def take(self, rows) -> None:
        self.taken.append([row.id for row in rows])

    def withdraw(self, warning_ids) -> list[int]:
        return []

    def know(self, warning_id, colour, all_clear, messages) -> None:
        pass


def crash_on_insert(monkeypatch, number: int) -> None:
    """The `number`th chunk's insert fails (the writer dies there; the chunks before it are committed), once."""
    real, calls = notices.insert_notification_chunks, []

    async def insert(session, chunks):
        calls.append(1)
        if len(calls) == number:
            raise RuntimeError("killed")
        await real(session, chunks)

    monkeypatch.setattr(notices, "insert_notification_chunks", insert)


async def rows_of(sessions, warning_id: int) -> list[Notification]:
    async with sessions() as session:
        return list((await session.execute(select(Notification).where(Notification.warning_id == warning_id)
                                           .order_by(Notification.id))).scalars())


async def expansion_of(sessions, warning_id: int) -> WarningExpansion:
    async with sessions() as session:
        return await session.get(WarningExpansion, warning_id)


async def test_desks_and_upper_levels_are_written_and_handed_before_villages(sessions, config, persons):
    handoff = Recorder()
    result = await ingest(sessions, make_warning(), config, NOON, handoff=handoff)
    assert result.expansion.state == "done" and result.notifications == persons + DEPARTMENTS
    rows = await rows_of(sessions, result.warning.id)
    ranks = [urgency_rank(row.recipient_kind, row.level) for row in rows]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] == urgency_rank("person", "village")
    assert [row.level for row in rows[DEPARTMENTS:DEPARTMENTS + 11]] == ["district"] + ["township"] * 10
    # The first chunk handed over is the desks alone; every row is handed once, in the order written.
    by_id = {row.id: row for row in rows}
    assert {by_id[key].recipient_kind for key in handoff.taken[0]} == {"department"}
    assert len(handoff.taken) > 3
    assert [key for chunk in handoff.taken for key in chunk] == [row.id for row in rows]


async def test_a_crash_after_some_chunks_resumes_with_everyone_once_and_all_delivered(
        sessions, config, persons, sink, monkeypatch):
    crash_on_insert(monkeypatch, 4)
    warning = make_warning()
    result = await ingest(sessions, warning, config, NOON)
    assert result.expansion.state == "expanding"
    assert result.notifications == DEPARTMENTS + 20 + 50 == len(await rows_of(sessions, result.warning.id))

    restarted = ExpansionRunner(sessions, config, Clock(fixed=LATER), "restarted")
    assert await restarted.pick_up() == [result.warning.id]
    await restarted.wait_idle()

    rows = await rows_of(sessions, result.warning.id)
    keys = [row.idempotency_key for row in rows]
    assert len(keys) == len(set(keys)) == persons + DEPARTMENTS
    async with sessions() as session:
        placed = await place(session, warning)
        fan = await fan_out(session, warning, config.warnings, placed, placed.jurisdiction, now=NOON)
        expected = await staff_desks(session, fan.recipients, config.warnings, NOON)
    assert {(row.recipient_kind, row.recipient_key, row.channel) for row in rows} == {r.slot for r in expected}
    done = await expansion_of(sessions, result.warning.id)
    assert done.finished_at is not None and done.stopped is None and done.written == len(rows)
    assert done.units_done == done.units_total == persons

    async with new_http_session(config.warnings.channels) as http:
        dispatcher = Dispatcher(sessions, build_channels(config.warnings.channels, http), config, Clock(fixed=LATER),
                                "w1")
        await dispatcher.run_until_idle()
    assert {row.status for row in await rows_of(sessions, result.warning.id)} == {"delivered"}
    sent = [request.json["idempotency_key"] for request in sink.requests]
    assert sorted(sent) == sorted(keys)


async def test_a_second_writer_does_nothing_while_the_first_holds_the_lease(sessions, config, persons, monkeypatch):
    crash_on_insert(monkeypatch, 3)
    result = await ingest(sessions, make_warning(), config, NOON)
    written = result.notifications

    other = await Expansion(result.warning.id, config, "other", lambda: NOON).run(sessions)
    assert other.state == "expanding" and other.written == written
    early = ExpansionRunner(sessions, config, Clock(fixed=NOON + timedelta(seconds=5)), "early")
    assert await early.pick_up() == []
    assert len(await rows_of(sessions, result.warning.id)) == written
    # Once the lease has lapsed, one of two runners takes it; the other finds nothing to take.
    first, second = (ExpansionRunner(sessions, config, Clock(fixed=LATER), name) for name in ("first", "second"))
    assert await first.pick_up() == [result.warning.id]
    assert await second.pick_up() == []
    await first.wait_idle()
    assert len(await rows_of(sessions, result.warning.id)) == persons + DEPARTMENTS


@pytest.mark.parametrize("msg_type", ["Cancel", "Update"])
async def test_a_cancel_or_update_stops_the_expansion_of_what_it_ends(sessions, config, persons, monkeypatch,
                                                                        msg_type):
    crash_on_insert(monkeypatch, 3)
    first = make_warning("first")
    result = await ingest(sessions, first, config, NOON)
    written = result.notifications
    assert result.expansion.state == "expanding" and written == DEPARTMENTS + 20

    later = make_warning("second", msg_type=msg_type, references=(first,), sent=NOON + timedelta(minutes=1))
    second = await ingest(sessions, later, config, NOON + timedelta(minutes=1))
    stopped = await expansion_of(sessions, result.warning.id)
    assert stopped.finished_at is not None
    assert stopped.stopped == (CANCELLED_REASON if msg_type == "Cancel" else SUPERSEDED_REASON)
    runner = ExpansionRunner(sessions, config, Clock(fixed=LATER), "restarted")
    assert await runner.pick_up() == []
    old = await rows_of(sessions, result.warning.id)
    assert len(old) == written and {row.status for row in old} == {"cancelled"}
    new = await rows_of(sessions, second.warning.id)
    if msg_type == "Cancel":
        # The all-clear tells exactly those told of the first before it stopped.
        assert sorted(row.recipient_key for row in new) == sorted(row.recipient_key for row in old)
    else:
        assert second.expansion.state == "done" and len(new) == persons + DEPARTMENTS
    async with sessions() as session:
        total = (await session.execute(select(func.count()).select_from(Notification))).scalar_one()
    assert total == len(old) + len(new)


def crash_on_copy(monkeypatch) -> None:
    """Copying the named units after the first chunk fails (the writer dies there), once."""
    real, calls = pending_units.copy_subtrees, []

    async def copy(session, warning_id, codes):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("killed")
        await real(session, warning_id, codes)

    monkeypatch.setattr(pending_units, "copy_subtrees", copy)


async def units_of(sessions, warning_id: int) -> int:
    async with sessions() as session:
        return (await session.execute(select(func.count()).select_from(WarningUnit)
                                      .where(WarningUnit.warning_id == warning_id))).scalar_one()


async def assert_resumed_once(sessions, config, warning_id: int, persons: int) -> None:
    """A restarted runner takes the warning's expansion over: its units copied once, everyone written once."""
    restarted = ExpansionRunner(sessions, config, Clock(fixed=LATER), "restarted")
    assert await restarted.pick_up() == [warning_id]
    await restarted.wait_idle()
    assert await units_of(sessions, warning_id) == persons + 1
    done = await expansion_of(sessions, warning_id)
    assert "units_pending" not in done.plan and done.units_done == done.units_total == persons
    keys = [row.idempotency_key for row in await rows_of(sessions, warning_id)]
    assert len(keys) == len(set(keys)) == persons + DEPARTMENTS


async def test_a_crash_before_the_named_units_are_copied_resumes_with_them_copied_once(
        sessions, config, persons, monkeypatch):
    crash_on_copy(monkeypatch)
    result = await ingest(sessions, make_warning(), config, NOON)
    # The desks were told with the warning; its units wait in the expansion's plan.
    assert result.expansion.state == "expanding" and result.notifications == DEPARTMENTS
    assert result.units == persons + 1 and await units_of(sessions, result.warning.id) == 0
    assert (await expansion_of(sessions, result.warning.id)).plan["units_pending"] == [CITY]

    await assert_resumed_once(sessions, config, result.warning.id, persons)


async def test_a_cancel_while_the_named_units_wait_copies_them(sessions, config, persons, monkeypatch):
    crash_on_copy(monkeypatch)
    first = make_warning("first")
    result = await ingest(sessions, first, config, NOON)
    assert await units_of(sessions, result.warning.id) == 0
    later = make_warning("second", msg_type="Cancel", references=(first,), sent=NOON + timedelta(minutes=1))
    await ingest(sessions, later, config, NOON + timedelta(minutes=1))
    assert await units_of(sessions, result.warning.id) == persons + 1
    assert "units_pending" not in (await expansion_of(sessions, result.warning.id)).plan


async def test_a_large_warning_is_answered_after_its_desks_and_the_runner_writes_the_rest_once(
        sessions, config, persons, monkeypatch):
    monkeypatch.setattr(accept, "INLINE_UNITS", 100)  # the wide registry's 311 units make a large warning
    handoff = Recorder()
    runner = ExpansionRunner(sessions, config, Clock(fixed=NOON), "intake", handoff=handoff)
    result = await ingest(sessions, make_warning(), config, NOON, handoff=handoff, expansions=runner)
    # The answer says what is on disk: the warning, its expansion and the desks' chunk; the total is not known yet.
    answer = result.as_json()
    assert answer["notifications"] is None and answer["notifications_written"] == DEPARTMENTS
    assert answer["expansion"] == {"state": "expanding", "written": DEPARTMENTS, "units_done": 0,
                                   "units_total": persons}
    assert [len(chunk) for chunk in handoff.taken] == [DEPARTMENTS]
    await runner.wait_idle()
    done = await expansion_of(sessions, result.warning.id)
    assert done.finished_at is not None and done.written == persons + DEPARTMENTS and "units_pending" not in done.plan
    assert await units_of(sessions, result.warning.id) == persons + 1
    keys = [row.idempotency_key for row in await rows_of(sessions, result.warning.id)]
    assert len(keys) == len(set(keys)) == persons + DEPARTMENTS
    assert [key for chunk in handoff.taken for key in chunk] == [row.id for row in await rows_of(
        sessions, result.warning.id)]


async def test_a_crash_after_the_answer_before_the_units_are_copied_resumes_with_them_copied_once(
        sessions, config, persons, monkeypatch):
    monkeypatch.setattr(accept, "INLINE_UNITS", 100)
    crash_on_copy(monkeypatch)  # the runner of the answering process dies copying the units, after the answer
    runner = ExpansionRunner(sessions, config, Clock(fixed=NOON), "intake", handoff=Recorder())
    result = await ingest(sessions, make_warning(), config, NOON, handoff=runner.handoff, expansions=runner)
    assert result.expansion.state == "expanding" and result.notifications == DEPARTMENTS
    await runner.wait_idle()
    assert await units_of(sessions, result.warning.id) == 0
    assert (await expansion_of(sessions, result.warning.id)).plan["units_pending"] == [CITY]

    await assert_resumed_once(sessions, config, result.warning.id, persons)


async def test_a_small_warning_with_a_runner_is_complete_at_its_answer(sessions, config, persons):
    runner = ExpansionRunner(sessions, config, Clock(fixed=NOON), "intake", handoff=Recorder())
    small = make_warning(geocodes=("410102001000",))  # one township and its 30 villages
    result = await ingest(sessions, small, config, NOON, handoff=runner.handoff, expansions=runner)
    assert result.expansion.state == "done" and result.as_json()["notifications"] == 31 + DEPARTMENTS
    assert runner._tasks == {}
