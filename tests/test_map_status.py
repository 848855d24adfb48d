"""The unit status rule of the duty map: missing or withdrawn beats overdue beats due soon beats current."""

import pytest

from fangxun.plans.unit_status import missing_kinds, status_counts, unit_status

REQUIRED = ["flood_plan", "evacuation"]


@pytest.mark.parametrize(("statuses", "expected"), [
    ({"flood_plan": "current", "evacuation": "current"}, "current"),
    ({"flood_plan": "current", "evacuation": "revising"}, "current"),       # in force while revised
    ({"flood_plan": "due_soon", "evacuation": "current"}, "due_soon"),
    ({"flood_plan": "due_soon", "evacuation": "overdue"}, "overdue"),
    ({"flood_plan": "overdue"}, "none"),                                     # evacuation missing
    ({"flood_plan": "current", "evacuation": "withdrawn"}, "none"),
    ({"flood_plan": "current", "evacuation": "current", "other": "overdue"}, "current"),  # not required
    ({}, "none"),
])
def test_unit_status(statuses, expected):
    assert unit_status(REQUIRED, statuses) == expected


def test_no_required_kinds_is_current():
    assert unit_status([], {}) == "current"


def test_missing_kinds_and_counts():
    statuses = {"flood_plan": "withdrawn", "other": "overdue"}
    assert missing_kinds(REQUIRED, statuses) == ["flood_plan", "evacuation"]
    assert status_counts(statuses) == {"current": 0, "due_soon": 0, "overdue": 1, "revising": 0, "withdrawn": 1}
