"""routing.redial: the next call of a sequence, from the calls so far (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fangxun.warnings.config import RedialPolicy
from fangxun.warnings.routing.redial import DEPUTY, LANDLINE, Attempt, Number, call_plan, next_call

T0 = datetime(2026, 7, 20, 3, 0, tzinfo=UTC)
RED = RedialPolicy(redials=3, interval_minutes=1)
NUMBERS = [Number("mobile", "139"), Number(LANDLINE, "0371"), Number(DEPUTY, "138")]


def unanswered(minute: int, to: str = "139", status: str = "no_answer", keys: str = "") -> Attempt:
    return Attempt(to, T0 + timedelta(minutes=minute), status, keys, T0 + timedelta(minutes=minute, seconds=40))


def test_the_plan_is_the_mobile_then_each_other_number_once():
    assert [n.address for n in call_plan(NUMBERS, RED)] == ["139"] * 4 + ["0371", "138"]
    assert call_plan(NUMBERS, RED.model_copy(update={"other_numbers": False})) == [NUMBERS[0]] * 4


def test_a_redial_comes_an_interval_after_the_last_result_and_key_1_ends_it():
    attempts = [unanswered(0)]
    assert next_call(attempts, 1, T0, NUMBERS, RED, T0 + timedelta(seconds=50)).action == "wait"
    redial = next_call(attempts, 1, T0, NUMBERS, RED, T0 + timedelta(minutes=2))
    assert (redial.action, redial.at, redial.number, redial.call) == (
        "call", T0 + timedelta(minutes=1, seconds=40), NUMBERS[0], 2)
    answered_no_key = attempts + [unanswered(2, status="answered")]
    assert next_call(answered_no_key, 2, T0, NUMBERS, RED, T0 + timedelta(minutes=4)).action == "call"
    assert next_call(attempts + [unanswered(2, status="answered", keys="21")], 2, T0, NUMBERS, RED,
                     T0 + timedelta(minutes=4)).action == "none"


def test_after_the_last_number_escalation_is_due_at_once():
    attempts = [unanswered(n) for n in range(4)] + [unanswered(5, "0371"), unanswered(7, "138")]
    step = next_call(attempts, 6, T0, NUMBERS, RED, T0 + timedelta(minutes=7, seconds=41))
    assert (step.action, step.at) == ("escalate", T0 + timedelta(minutes=7, seconds=40))


def test_a_call_without_a_result_or_not_yet_placed_counts_unanswered_after_the_wait():
    ringing = [Attempt("139", T0, "requested")]
    assert next_call(ringing, 1, T0, NUMBERS, RED, T0 + timedelta(minutes=4)).at == T0 + timedelta(minutes=5)
    assert next_call(ringing, 1, T0, NUMBERS, RED, T0 + timedelta(minutes=6)).action == "call"
    assert next_call([], 1, T0, NUMBERS, RED, T0 + timedelta(minutes=6)).action == "call"
