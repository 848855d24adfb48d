"""What the event page says of the response: the level in force and what the rules propose, worded so that a
proposal is never read as a decision."""

from __future__ import annotations

from dataclasses import dataclass

from fangxun.warnings.events.config import LEVEL_LABELS

# How a decision or a proposal reads: "提升至Ⅱ级应急响应" (levels are 1..4, Ⅰ the highest).
DECISION_VERBS = {"activate": "启动", "upgrade": "提升至", "downgrade": "降低至", "terminate": "终止"}


@dataclass(frozen=True)
class Advice:
    """The decision a proposal points to (None when it asks for no change) and its sentence."""

    action: str | None
    level: int | None
    text: str


def proposal_advice(proposed: int | None, current: int | None) -> Advice:
    """"建议启动Ⅱ级应急响应（尚未决定）" and the like, from the proposed level and the one in force."""
    if proposed is None:
        if current is None:
            return Advice(None, None, "现行预警未达到任何响应级别的启动条件，系统无建议")
        return Advice(None, None, f"现行预警已不满足任何响应级别的启动条件（是否终止{LEVEL_LABELS[current]}"
                                  "应急响应由会商决定）")
    label = f"{LEVEL_LABELS[proposed]}应急响应"
    if current == proposed:
        return Advice(None, proposed, f"系统建议{label}，与当前响应一致")
    action = "activate" if current is None else ("upgrade" if proposed < current else "downgrade")
    return Advice(action, proposed, f"建议{DECISION_VERBS[action]}{label}（尚未决定）")


def decision_headline(action: str, level: int) -> str:
    """"降低至Ⅲ级应急响应": what a recorded decision did."""
    return f"{DECISION_VERBS.get(action, action)}{LEVEL_LABELS.get(level, '')}应急响应"


def current_text(last_action: str | None, last_level: int | None, decided_by: str, when: str) -> str:
    """"当前：Ⅲ级应急响应（2026-07-20 08:00 由 张三 决定）" after the event's last decision (`when` in local time,
    `last_level` the level it set or ended); "当前：未启动应急响应" before any, and after a termination with it."""
    if last_action is None or last_level is None:
        return "当前：未启动应急响应"
    label = f"{LEVEL_LABELS[last_level]}应急响应"
    if last_action == "terminate":
        return f"当前：未启动应急响应（{label}已于 {when} 由 {decided_by} 决定终止）"
    return f"当前：{label}（{when} 由 {decided_by} 决定）"
