"""叫应 deadlines per colour, reminders, and the escalation chain with an injected clock."""

from datetime import datetime, timedelta, timezone

import pytest

from fangxun.warnings.config import WarningSettings
from fangxun.warnings.routing.deadlines import AckState, Step, ack_deadline, asks_ack, escalation_target, next_step

T0 = datetime(2026, 7, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def config(settings):
    return settings.warnings


def state(**changes) -> AckState:
    values = {"colour": "red", "recipient_kind": "person", "level": "village", "delivered_at": T0}
    return AckState(**(values | changes))


@pytest.mark.parametrize("colour, minutes", [("red", 15), ("orange", 30), ("yellow", 60), ("blue", 120),
                                             (None, 60)])
def test_deadline_per_colour(config, colour, minutes):
    assert ack_deadline(colour, T0, config) == T0 + timedelta(minutes=minutes)


def test_deadline_follows_configuration(config):
    changed = config.model_copy(update={"ack_deadline_minutes": config.ack_deadline_minutes.model_copy(
        update={"red": 5})})
    assert ack_deadline("red", T0, changed) == T0 + timedelta(minutes=5)


def test_an_all_clear_asks_no_answer_unless_configured(config):
    assert asks_ack(False, config) and not asks_ack(True, config)
    assert ack_deadline("red", T0, config, all_clear=True) is None
    late = T0 + timedelta(hours=3)
    assert next_step(state(all_clear=True), late, config) == Step("none")
    assert next_step(state(all_clear=True, unreachable=True), late, config) == Step("none")  # no escalation
    asked = config.model_copy(update={"all_clear": config.all_clear.model_copy(update={"ack": True})})
    assert ack_deadline("red", T0, asked, all_clear=True) == T0 + timedelta(minutes=15)
    assert next_step(state(all_clear=True), late, asked).action == "remind"


def test_deadline_refuses_naive_times(config):
    with pytest.raises(ValueError):
        ack_deadline("red", T0.replace(tzinfo=None), config)


@pytest.mark.parametrize("kind, level, target", [
    ("person", "village", ("person", "township")),
    ("person", "township", ("person", "district")),
    ("person", "district", ("duty_desk", "city")),
    ("person", "city", ("duty_desk", "city")),
    ("department", "water", ("department_leader", "water")),
    ("department_leader", "water", None),
    ("duty_desk", "district", ("duty_desk", "city")),
    ("duty_desk", "city", ("duty_leader", "city")),
    ("duty_leader", "city", None),
])
def test_escalation_chain(kind, level, target):
    assert escalation_target(kind, level) == target


def test_unknown_recipient_kind():
    with pytest.raises(ValueError):
        escalation_target("robot", "x")


def test_wait_until_the_deadline(config):
    assert next_step(state(), T0 + timedelta(minutes=14), config) == Step("wait", T0 + timedelta(minutes=15))


def test_acknowledged_needs_nothing(config):
    assert next_step(state(acked_at=T0 + timedelta(minutes=3)), T0 + timedelta(hours=3), config).action == "none"


def test_not_delivered_yet_waits_for_delivery(config):
    assert next_step(state(delivered_at=None), T0 + timedelta(hours=3), config) == Step("wait")


def test_remind_then_escalate_once(config):
    deadline = T0 + timedelta(minutes=15)
    assert next_step(state(), deadline, config) == Step("remind", deadline)
    # The reminder was delivered at the deadline: a fresh 15 minutes, then escalation.
    reminded = state(delivered_at=deadline, reminders=1)
    assert next_step(reminded, deadline + timedelta(minutes=10), config).action == "wait"
    second = deadline + timedelta(minutes=15)
    assert next_step(reminded, second, config) == Step("escalate", second, ("person", "township"), 1)
    # Once escalated this notification is done; the township notification has its own clock.
    assert next_step(state(reminders=1, escalated=True), second + timedelta(hours=1), config).action == "none"


def test_full_chain_with_an_injected_clock(config):
    now, kind, level, step, path = T0, "person", "village", 0, []
    while True:
        current = state(colour="orange", recipient_kind=kind, level=level, delivered_at=now, escalation_step=step)
        now += timedelta(minutes=30)
        assert next_step(current, now, config).action == "remind"
        current = state(colour="orange", recipient_kind=kind, level=level, delivered_at=now, reminders=1,
                        escalation_step=step)
        now += timedelta(minutes=30)
        decision = next_step(current, now, config)
        if decision.action != "escalate":
            break
        kind, level = decision.target
        step = decision.escalation_step
        path.append(decision.target)
    # The city duty room's 带班领导 is the last link (warnings/acks/escalation.py skips it when no roster names one).
    assert path == [("person", "township"), ("person", "district"), ("duty_desk", "city"), ("duty_leader", "city")]
    assert decision.action == "exhausted" and step == 4


def test_department_escalates_to_its_leader(config):
    late = T0 + timedelta(hours=5)
    decision = next_step(state(colour="blue", recipient_kind="department", level="water", reminders=1), late, config)
    assert decision.target == ("department_leader", "water")
    leader = state(colour="blue", recipient_kind="department_leader", level="water", reminders=1)
    assert next_step(leader, late, config).action == "exhausted"


def test_no_reminders_configured_escalates_at_the_first_deadline(config):
    direct = config.model_copy(update={"repeat_before_escalate": 0})
    assert next_step(state(), T0 + timedelta(minutes=15), direct).action == "escalate"


def test_escalation_disabled_stops_after_reminders(config):
    off = config.model_copy(update={"escalation": config.escalation.model_copy(update={"enabled": False})})
    assert next_step(state(reminders=1), T0 + timedelta(hours=1), off).action == "exhausted"
    assert next_step(state(reminders=1), T0 + timedelta(hours=1), WarningSettings()).action == "exhausted"


def test_unreachable_recipient_escalates_at_once(config):
    decision = next_step(state(delivered_at=None, unreachable=True), T0, config)
    assert decision == Step("escalate", T0, ("person", "township"), 1)
    desk = state(recipient_kind="duty_desk", level="city", unreachable=True)
    assert next_step(desk, T0, config) == Step("escalate", T0, ("duty_leader", "city"), 1)
    end = state(recipient_kind="duty_leader", level="city", unreachable=True)
    assert next_step(end, T0, config).action == "exhausted"
