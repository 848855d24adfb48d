"""The `[registry]` section: review cycles, the due-soon window and the plan kinds each level must have."""

from __future__ import annotations

from pydantic import Field, field_validator

from fangxun.core.settings import Strict
from fangxun.plans.unit_rules import LEVELS

PLAN_KINDS = ("flood_plan", "flood_scheme", "evacuation", "other")


class ReminderSettings(Strict):
    """When a plan's owner is reminded of its review: days before the due date, then every so many days overdue."""

    enabled: bool = True
    before_days: tuple[int, ...] = (30, 7)
    overdue_every_days: int = Field(7, ge=1, le=365)

    @field_validator("before_days")
    @classmethod
    def _days_in_range(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [days for days in value if not 0 <= days <= 3650]
        if bad:
            raise ValueError(f"before_days must be 0..3650: {bad}")
        return tuple(sorted(set(value), reverse=True))


class RegistrySettings(Strict):
    timezone: str = "Asia/Shanghai"
    due_soon_days: int = Field(60, ge=0, le=3650)
    review_cycle_months: dict[str, int]
    required_kinds: dict[str, list[str]]
    reminders: ReminderSettings = ReminderSettings()

    @field_validator("review_cycle_months")
    @classmethod
    def _known_kinds_with_cycles(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(PLAN_KINDS)
        if unknown:
            raise ValueError(f"unknown plan kind(s) {sorted(unknown)}; known: {list(PLAN_KINDS)}")
        missing = set(PLAN_KINDS) - set(value)
        if missing:
            raise ValueError(f"missing review cycle for {sorted(missing)}")
        bad = {k: v for k, v in value.items() if not 1 <= v <= 240}
        if bad:
            raise ValueError(f"review cycles must be 1..240 months: {bad}")
        return value

    @field_validator("required_kinds")
    @classmethod
    def _known_levels_and_kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown_levels = set(value) - set(LEVELS)
        if unknown_levels:
            raise ValueError(f"unknown level(s) {sorted(unknown_levels)}; known: {list(LEVELS)}")
        for level, kinds in value.items():
            unknown = set(kinds) - set(PLAN_KINDS)
            if unknown:
                raise ValueError(f"level {level}: unknown plan kind(s) {sorted(unknown)}")
        return value

    def required_kinds_for(self, level: str) -> list[str]:
        """The plan kinds a unit of `level` must have."""
        return list(self.required_kinds.get(level, []))
