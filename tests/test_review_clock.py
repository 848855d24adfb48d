"""The review clock: month arithmetic, next due date and status."""

from datetime import date, timedelta

import pytest

from fangxun.plans.review_clock import add_months, next_review_due, plan_status, status_window


@pytest.mark.parametrize("start, months, expected", [
    (date(2024, 2, 29), 12, date(2025, 2, 28)),   # leap day into a common year clamps
    (date(2024, 2, 29), 48, date(2028, 2, 29)),   # ... and lands on a leap day four years on
    (date(2023, 1, 31), 1, date(2023, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2023, 11, 30), 3, date(2024, 2, 29)),
    (date(2023, 12, 15), 36, date(2026, 12, 15)),
    (date(2023, 5, 10), 0, date(2023, 5, 10)),
])
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


def test_next_review_counts_from_latest_of_approval_and_review():
    assert next_review_due(date(2021, 5, 1), None, 36) == date(2024, 5, 1)
    assert next_review_due(date(2021, 5, 1), date(2023, 4, 1), 36) == date(2026, 4, 1)
    assert next_review_due(None, date(2023, 4, 1), 12) == date(2024, 4, 1)
    assert next_review_due(None, None, 36) is None


def test_cycle_change_moves_the_due_date():
    approved = date(2024, 3, 15)
    assert next_review_due(approved, None, 36) == date(2027, 3, 15)
    assert next_review_due(approved, None, 12) == date(2025, 3, 15)


@pytest.mark.parametrize("lifecycle, due, expected", [
    ("active", date(2026, 5, 31), "overdue"),      # one day late
    ("active", date(2026, 6, 1), "due_soon"),      # due today is not yet overdue
    ("active", date(2026, 7, 31), "due_soon"),     # the last day inside a 60-day window
    ("active", date(2026, 8, 1), "current"),
    ("active", None, "overdue"),                   # never approved: counts as overdue
    ("revising", date(2020, 1, 1), "revising"),
    ("withdrawn", date(2030, 1, 1), "withdrawn"),  # withdrawn wins over any date
])
def test_status(lifecycle, due, expected):
    assert plan_status(lifecycle, due, date(2026, 6, 1), 60) == expected


@pytest.mark.parametrize("due_offset", range(-3, 64))
def test_status_window_agrees_with_status(due_offset):
    """The SQL bounds select exactly the plans the rule calls by that status."""
    today = date(2026, 6, 1)
    due = today + timedelta(days=due_offset)
    status = plan_status("active", due, today, 60)
    for candidate in ("current", "due_soon", "overdue"):
        _, low, high = status_window(candidate, today, 60)
        inside = (low is None or due >= low) and (high is None or due <= high)
        assert inside == (candidate == status)
