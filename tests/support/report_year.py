"""A small hand-built year (2025) for the annual report: plans, warnings, notifications, events, decisions and
journal entries with known times, including rows just outside the year (Beijing time) that must not count.
tests/test_report_figures.py works out every figure of it by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert
from support.tree import add_plans, add_units

from fangxun.plans.plan_writes import record_review, withdraw_plan
from fangxun.warnings.events.tables import Event, EventWarning, JournalEntry, ResponseDecision
from fangxun.warnings.tables import Notification, Warning

YEAR = 2025
CST = timezone(timedelta(hours=8))
CITY, JIA, YI = "410100000000", "410102000000", "410103000000"
T1, T2, T3 = "410102001000", "410102002000", "410103001000"
EAST, WEST = "410102002001", "410102002002"

# (unit, kind, approved_on, then); statuses on 2025-12-31 with 36-month cycles and a 60-day window
# (due_soon = due in 2025-12-31..2026-03-01, overdue = due before 2025-12-31).
PLANS = [
    (CITY, "flood_plan", "2024-03-01", None),        # 1 due 2027-03-01: current
    (CITY, "evacuation", "2022-12-15", None),        # 2 due 2025-12-15: overdue
    (JIA, "flood_plan", "2023-01-20", None),         # 3 due 2026-01-20: due_soon
    (JIA, "evacuation", "2021-05-01", None),         # 4 reviewed 2025-04-10 below: current
    (YI, "flood_plan", "2020-01-01", None),          # 5 revised 2025-06-15 below: current
    (YI, "evacuation", "2024-06-01", "revising"),    # 6 revising
    (T1, "flood_plan", "2023-06-01", None),          # 7 withdrawn 2025-08-01 below
    (T2, "flood_plan", "2025-02-01", None),          # 8 approved in the year: current
    (T2, "evacuation", "2022-11-30", None),          # 9 due 2025-11-30: overdue
    (T3, "flood_plan", "2024-01-01", None),          # 10 reviewed 2024-12-31 below (not in the year): current
    (EAST, "flood_plan", "2025-05-05", None),        # 11 approved in the year; reviewed 2026-01-01 below: current
    (EAST, "evacuation", "2023-02-28", None),        # 12 due 2026-02-28: due_soon
    (WEST, "other", "2024-09-01", None),             # 13 current (an "other" plan fills no requirement)
]


def cst(*parts: int) -> datetime:
    """A Beijing-time instant."""
    return datetime(*parts, tzinfo=CST)


# name -> (event, colour, msg_type, cap_status, source, received at)
WARNINGS = {
    "W0": ("暴雨", "red", "Alert", "Actual", "cap", cst(2024, 12, 31, 23, 50)),      # 2024
    "W1": ("暴雨", "yellow", "Alert", "Actual", "cap", cst(2025, 1, 1, 0, 30)),      # UTC still 2024: counts, Jan
    "W2": ("暴雨", "orange", "Update", "Actual", "cap", cst(2025, 7, 20, 8, 0)),
    "W3": ("暴雨", "red", "Update", "Actual", "cap", cst(2025, 7, 20, 10, 0)),
    "W4": ("暴雨", None, "Cancel", "Actual", "cap", cst(2025, 7, 21, 9, 0)),         # a Cancel: not issued
    "W5": ("雷电", "yellow", "Alert", "Actual", "cap", cst(2025, 8, 1, 7, 0)),       # UTC July: counts in August
    "W6": ("暴雪", "blue", "Alert", "Actual", "cap", cst(2025, 12, 31, 23, 30)),
    "W7": ("暴雨", "yellow", "Alert", "Actual", "cap", cst(2026, 1, 1, 0, 10)),      # UTC 2025: not in the year
    "W8": ("暴雨", "yellow", "Alert", "Exercise", "cap", cst(2025, 5, 10, 10, 0)),   # an exercise: its own section
    "W9": ("暴雨", "red", "Alert", "Test", "cap", cst(2025, 5, 11, 10, 0)),          # a test does not
    "W10": ("防汛应急响应", None, "Alert", "Actual", "response", cst(2025, 7, 20, 10, 40)),  # decision notice
    "W11": ("道路结冰", None, "Alert", "Actual", "cap", cst(2025, 2, 10, 8, 0)),
}

D = cst(2025, 7, 20, 10, 5)  # when the first notices were delivered

# (warning, purpose, status, attempts, delivered_at, acked after minutes (None: not answered), late)
NOTIFICATIONS = [
    ("W2", "notice", "delivered", 1, D, 3, False),        # n1
    ("W2", "notice", "delivered", 1, D, 5, False),        # n2
    ("W2", "notice", "delivered", 1, D, 12, False),       # n3
    ("W3", "notice", "delivered", 1, D, 40, True),        # n4
    ("W3", "notice", "delivered", 1, D, 90, True),        # n5
    ("W3", "notice", "delivered", 1, D, None, False),     # n6
    ("W1", "notice", "failed", 2, None, None, False),     # n7
    ("W1", "notice", "dead", 4, None, None, False),       # n8
    ("W5", "notice", "pending", 0, None, None, False),    # n9 not sent yet
    ("W4", "notice", "delivered", 1, D, 1, False),        # of a Cancel: left out
    ("W7", "notice", "delivered", 1, D, 2, False),        # of next year: left out
    ("W0", "notice", "delivered", 1, D, 2, False),        # of last year: left out
    ("W3", "reminder", "delivered", 1, D, None, False),
    ("W3", "escalation", "delivered", 1, D, 8, False),
    ("W3", "escalation", "delivered", 1, D, None, False),
    ("W10", "notice", "delivered", 1, D, 20, False),      # decision notices
    ("W10", "notice", "delivered", 1, D, None, False),
    ("W10", "notice", "pending", 0, None, None, False),
    ("W10", "escalation", "delivered", 1, D, None, False),
]

# name -> (kind, started, ended)
EVENTS = {
    "E1": ("rainfall", cst(2025, 7, 20, 7, 50), cst(2025, 7, 22, 20, 0)),
    "E2": ("rainfall", cst(2025, 1, 1, 0, 20), cst(2025, 1, 1, 18, 0)),     # UTC 2024: in the year
    "E3": ("snow_ice", cst(2025, 12, 31, 23, 40), None),                    # still open
    "E4": ("rainfall", cst(2024, 12, 31, 23, 0), cst(2025, 1, 1, 3, 0)),    # started 2024
    "E5": ("rainfall", cst(2026, 1, 1, 0, 5), None),                        # UTC 2025: started 2026
}
EVENT_WARNINGS = {"W2": "E1", "W3": "E1", "W4": "E1", "W1": "E2", "W6": "E3", "W0": "E4"}

# (name, event, action, level, previous, proposed, trigger warning, trigger_at, decided_at, notice)
DECISIONS = [
    ("D1", "E1", "activate", 4, None, 4, "W2", cst(2025, 7, 20, 8, 0), cst(2025, 7, 20, 8, 45), None),     # 45 min
    ("D2", "E1", "upgrade", 2, 4, 2, "W3", cst(2025, 7, 20, 10, 0), cst(2025, 7, 20, 10, 30), "W10"),     # 30 min
    ("D3", "E1", "terminate", 2, 2, None, None, None, cst(2025, 7, 22, 18, 0), None),                    # untimed
    ("D4", "E2", "activate", 4, None, 4, "W1", cst(2025, 1, 1, 0, 30), cst(2025, 1, 1, 2, 30), None),     # 120 min
    ("D5", "E4", "activate", 3, None, 3, "W0", cst(2024, 12, 31, 23, 50), cst(2024, 12, 31, 23, 55), None),  # 2024
]

# (name, event, corrects, figures)
JOURNAL = [
    ("J1", "E1", None, {"evacuated": 1200, "housed": 800, "shelters_opened": 5, "roads_closed": 3, "deaths": 0}),
    ("J2", "E1", None, {"evacuated": 300, "rescues": 4, "injured": 2, "economic_loss": 150.5}),
    ("J3", "E1", "J2", {"evacuated": 350, "rescues": 4, "injured": 3, "economic_loss": 150.5}),  # replaces J2
    ("J4", "E2", None, {"evacuated": 50, "housed": 50}),
    ("J5", "E4", None, {"deaths": 2}),    # an event of 2024
    ("J6", "E5", None, {"deaths": 1}),    # an event of 2026
]


async def add_year(session, settings, today: date) -> dict[str, int]:
    """Everything above in the database; the ids by name (plans as P1..P13)."""
    await add_units(session)
    plans = await add_plans(session, PLANS, settings, today)
    ids = {f"P{index}": plans[(unit, kind)] for index, (unit, kind, _, _) in enumerate(PLANS, start=1)}
    await record_review(session, ids["P4"], date(2025, 4, 10), "汛前评估", "t", today)
    await record_review(session, ids["P5"], date(2025, 6, 15), "修订", "t", today, revised=True, version="2.1")
    await withdraw_plan(session, ids["P7"], date(2025, 8, 1), "撤并", "t")
    await record_review(session, ids["P10"], date(2024, 12, 31), "评估", "t", today)
    await record_review(session, ids["P11"], date(2026, 1, 1), "评估", "t", today)

    for name, (event, colour, msg_type, cap_status, source, received) in WARNINGS.items():
        ids[name] = (await session.execute(insert(Warning).returning(Warning.id).values(
            identifier=f"report-{name}", sender="zz-met@cma.gov.cn", sent=received, msg_type=msg_type,
            cap_status=cap_status, event=event, colour=colour, source=source, received_at=received,
            status="expired"))).scalar_one()
    await session.execute(insert(Notification), [
        {"warning_id": ids[warning], "recipient_kind": "person", "recipient_key": f"k{index}",
         "recipient_name": f"责任人{index}", "channel": "record", "idempotency_key": f"report-n{index}",
         "ack_token_hash": f"{index:064d}", "purpose": purpose, "status": status, "attempts": attempts,
         "delivered_at": delivered, "acked_at": None if acked is None else delivered + timedelta(minutes=acked),
         "acked_late": late, "created_at": cst(2025, 7, 20, 10, 0)}
        for index, (warning, purpose, status, attempts, delivered, acked, late) in enumerate(NOTIFICATIONS)])

    for name, (kind, started, ended) in EVENTS.items():
        ids[name] = (await session.execute(insert(Event).returning(Event.id).values(
            kind=kind, name=f"{name}过程", status="open" if ended is None else "closed", started_at=started,
            ended_at=ended, opened_by="rule:" + kind))).scalar_one()
    await session.execute(insert(EventWarning), [
        {"warning_id": ids[warning], "event_id": ids[event], "joined_at": WARNINGS[warning][5]}
        for warning, event in EVENT_WARNINGS.items()])
    for name, event, action, level, previous, proposed, trigger, trigger_at, decided_at, notice in DECISIONS:
        ids[name] = (await session.execute(insert(ResponseDecision).returning(ResponseDecision.id).values(
            event_id=ids[event], action=action, level=level, previous_level=previous, proposed_level=proposed,
            trigger_warning_id=ids.get(trigger), trigger_at=trigger_at, decided_by="值班长", decided_at=decided_at,
            recorded_by="duty01", recorded_at=decided_at, notice_warning_id=ids.get(notice)))).scalar_one()
    for name, event, corrects, figures in JOURNAL:
        ids[name] = (await session.execute(insert(JournalEntry).returning(JournalEntry.id).values(
            event_id=ids[event], recorded_at=cst(2025, 7, 23, 9, 0), author="water-token", department="water",
            corrects_id=ids.get(corrects), **figures))).scalar_one()
    return ids
