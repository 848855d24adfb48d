"""The demo year on both databases: plausible counts and links, refusal of a second load, determinism."""

import hashlib
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fangxun.cli import main
from fangxun.core.errors import BadInput, Conflict
from fangxun.demo.history import load_history, past_year, read_registry
from fangxun.demo.history_build import Ids, build_history
from fangxun.demo.history_notify import build_outbox
from fangxun.demo.registry import load_demo
from fangxun.warnings.events.journal_rules import figure_totals
from fangxun.warnings.events.tables import Event, EventWarning, JournalEntry, ResponseDecision
from fangxun.warnings.tables import Notification, NotificationAttempt, Warning, WarningUnit

YEAR = 2025
BEIJING = ZoneInfo("Asia/Shanghai")
# The warnings of YEAR with the default seed, as sha256 of their sorted (identifier, sent, colour): only the
# hand-written script, the seed and the demo registry move it, so it is the same on every database and run.
WARNINGS_FINGERPRINT = "6f7833c125beed7ab7f689e7bf9dbb4e49a4ad03d0ee7dcd6be7464c57e81297"
TABLES = (Warning, WarningUnit, Event, EventWarning, ResponseDecision, JournalEntry, Notification, NotificationAttempt)


def fingerprint(rows) -> str:
    text = "\n".join(f"{identifier}|{sent.isoformat()}|{colour}" for identifier, sent, colour in sorted(rows))
    return hashlib.sha256(text.encode()).hexdigest()


async def _counts(session) -> dict:
    return {t.__tablename__: (await session.execute(select(func.count()).select_from(t))).scalar_one()
            for t in TABLES}


def _generate(registry, settings, seed: int):
    """The rows a load would write with ids from 1, without a database."""
    ids = {name: Ids(1) for name in ("warnings", "events", "response_decisions", "journal_entries",
                                     "notifications", "notification_attempts")}
    rng = random.Random(seed)
    history = build_history(registry, settings, YEAR, rng, ids)
    outbox = build_outbox(history.messages, registry, settings, seed, rng, ids["notifications"],
                          ids["notification_attempts"])
    return history, outbox


async def test_demo_year_is_plausible_deterministic_and_loads_once(sessions, settings, today):
    async with sessions() as session, session.begin():
        await load_demo(session, settings, today)
    async with sessions() as session:
        registry = await read_registry(session)
    first, first_outbox = _generate(registry, settings, 2021)
    again, again_outbox = _generate(registry, settings, 2021)
    other, _ = _generate(registry, settings, 7)
    assert first.warnings == again.warnings and first.journal == again.journal
    assert first_outbox.notices == again_outbox.notices and first_outbox.derived == again_outbox.derived
    assert first.warnings != other.warnings

    async with sessions() as session, session.begin():
        summary = await load_history(session, settings, year=YEAR)
    assert summary.events_by_kind == {"rainfall": 18, "snow_ice": 2}
    assert "降雨过程 18 轮、雨雪冰冻 2 轮" in str(summary)
    assert 30_000 <= summary.notifications <= 80_000
    assert summary.notifications == len(first_outbox.notices) + len(first_outbox.derived)

    async with sessions() as session:
        warnings = (await session.execute(select(Warning))).scalars().all()
        assert fingerprint((w.identifier, w.sent, w.colour) for w in warnings) == WARNINGS_FINGERPRINT
        assert {w.status for w in warnings} == {"expired", "superseded", "cancelled"}
        start, end = datetime(YEAR, 1, 1, tzinfo=BEIJING), datetime(YEAR + 1, 1, 1, tzinfo=BEIJING)
        assert all(start <= w.sent < end and w.received_at >= w.sent for w in warnings)
        members = dict((await session.execute(select(EventWarning.warning_id, EventWarning.event_id))).all())
        events = (await session.execute(select(Event))).scalars().all()
        assert all(e.status == "closed" and e.ended_at > e.started_at for e in events)
        assert {e.id for e in events} == set(members.values())  # every event has warnings
        assert all(members[e.opening_warning_id] == e.id for e in events)
        assert {e.close_reason for e in events} == {"quiet", "manual"}
        # Blue rain opens nothing: some blue 暴雨 warnings belong to no event.
        assert any(w.event == "暴雨" and w.colour == "blue" and w.id not in members for w in warnings)
        threads = {w.thread_id for w in warnings if w.msg_type == "Update"}
        assert threads and threads <= {w.id for w in warnings if w.msg_type == "Alert"}

        decisions = (await session.execute(select(ResponseDecision))).scalars().all()
        assert all(members[d.trigger_warning_id] == d.event_id for d in decisions)
        assert all(d.decided_at - d.trigger_at >= timedelta(minutes=20) for d in decisions)
        assert {d.action for d in decisions} == {"activate", "upgrade", "downgrade", "terminate"}
        assert min(d.level for d in decisions) == 1
        assert all(d.proposed_level == d.level for d in decisions if d.action in ("activate", "upgrade"))
        # Each decision was told to the departments by a notice of its own, which belongs to no event.
        notices = {w.id: w for w in warnings if w.source == "response"}
        assert sorted(d.notice_warning_id for d in decisions) == sorted(notices)
        assert not set(notices) & set(members)
        told = dict((await session.execute(select(Notification.warning_id, func.count()).where(
            Notification.warning_id.in_(list(notices)), Notification.recipient_kind == "department")
            .group_by(Notification.warning_id))).all())
        assert set(told) == set(notices)

        entries = (await session.execute(select(JournalEntry))).scalars().all()
        totals = figure_totals(entries)
        assert totals["deaths"] == 0 and totals["evacuated"] > 0
        corrections = [e for e in entries if e.corrects_id is not None]
        assert corrections and sum(e.evacuated or 0 for e in entries) > totals["evacuated"]

        states = dict((await session.execute(
            select(Notification.purpose, func.count()).group_by(Notification.purpose))).all())
        assert states["reminder"] > 0 and states["escalation"] > 0
        acked, late, dead = (await session.execute(select(
            func.count(Notification.acked_at), func.count().filter(Notification.acked_late.is_(True)),
            func.count().filter(Notification.status == "dead")))).one()
        assert 0.93 <= acked / summary.notifications <= 0.99 and late > 0 and dead > 0
        assert (await session.execute(select(func.count()).select_from(Notification).where(
            Notification.purpose == "escalation", Notification.escalated_from_id.is_(None)))).scalar_one() == 0
        # A first signal's 责任人 are those of the units it covers.
        alerts = select(Warning.id).where(Warning.msg_type == "Alert").scalar_subquery()
        covered = (await session.execute(select(func.count()).select_from(Notification).join(
            WarningUnit, (WarningUnit.warning_id == Notification.warning_id)
            & (WarningUnit.unit_code == Notification.unit_code)).where(
            Notification.purpose == "notice", Notification.warning_id.in_(alerts)))).scalar_one()
        persons = (await session.execute(select(func.count()).select_from(Notification).where(
            Notification.purpose == "notice", Notification.unit_code.is_not(None),
            Notification.warning_id.in_(alerts)))).scalar_one()
        assert covered == persons > 0

        before = await _counts(session)
    with pytest.raises(Conflict, match="不能重复载入"):
        async with sessions() as session, session.begin():
            await load_history(session, settings, year=YEAR)
    async with sessions() as session, session.begin():
        assert await _counts(session) == before
        # The ids handed out explicitly moved the sequences on: the service's next rows do not collide.
        session.add(Event(kind="rainfall", name="手动过程", started_at=events[0].started_at, opened_by="test"))
        await session.flush()
        assert (await session.execute(select(func.max(Event.id)))).scalar_one() == len(events) + 1


async def test_history_needs_the_registry(sessions, settings):
    with pytest.raises(Conflict, match="请先载入演示登记库"):
        async with sessions() as session, session.begin():
            await load_history(session, settings, year=YEAR)


def test_history_year_defaults_to_the_last_full_year():
    assert past_year(None, date(2026, 1, 1)) == 2025
    assert past_year(2021, date(2026, 6, 1)) == 2021
    for year in (2026, 2031, 1999):
        with pytest.raises(BadInput, match="--history-year"):
            past_year(year, date(2026, 6, 1))


def test_cli_loads_registry_and_history_then_refuses_the_same_year(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["--database-url", url, "demo", "load", "--history-year", "2030"]) == 2
    assert "--history-year" in capsys.readouterr().err

    assert main(["--database-url", url, "demo", "load", "--with-history", "--history-year", "2024"]) == 0
    out = capsys.readouterr().out
    assert "预案 6897 件" in out and "2024年演示历史：降雨过程 18 轮、雨雪冰冻 2 轮" in out

    assert main(["--database-url", url, "demo", "load", "--with-history", "--history-year", "2024"]) == 2
    assert "2024年已有预警" in capsys.readouterr().err
    # A registry already there: another year's history goes on top of it.
    assert main(["--database-url", url, "demo", "load", "--history-year", "2023"]) == 0
    assert "只载入演示历史" in capsys.readouterr().out
