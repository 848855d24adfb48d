"""Which review reminder of a plan is due on a day: before the due date, then weekly while overdue. Pure."""

from __future__ import annotations

from datetime import date


def reminder_step(due: date, today: date, before_days: tuple[int, ...], overdue_every_days: int) -> str | None:
    """The step whose reminder is due on `today` ("d30", "d7", "o1", "o2", …), None before the first.

    Only the latest step applies: a job that missed days sends that one, never the steps it passed."""
    left = (due - today).days
    if left < 0:
        return f"o{(-left - 1) // overdue_every_days + 1}"
    reached = [days for days in before_days if left <= days]
    return f"d{min(reached)}" if reached else None


def step_label(step: str) -> str:
    """How a step reads in a message: 距复核到期 30 天, 已逾期第 2 周."""
    if step.startswith("d"):
        return f"距复核到期还有 {step[1:]} 天" if step != "d0" else "今天复核到期"
    return f"复核已逾期（第 {step[1:]} 次提醒）"
