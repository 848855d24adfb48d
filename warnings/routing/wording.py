"""Which wording a message takes, as pure rules: its kind (a first Alert, an upgrade, a downgrade, another
update, an all-clear), the one line that says what changed, and the template of that kind."""

from __future__ import annotations

from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOURS

ALERT, UPGRADE, DOWNGRADE, UPDATE, ALL_CLEAR = "alert", "upgrade", "downgrade", "update", "all_clear"
KINDS = (ALERT, UPGRADE, DOWNGRADE, UPDATE, ALL_CLEAR)
# The kinds whose template [warnings.wording] names (an Alert keeps its route's).
WORDED_KINDS = (UPGRADE, DOWNGRADE, UPDATE, ALL_CLEAR)
CHANGE_VERBS = {ALERT: "发布", UPGRADE: "升级", DOWNGRADE: "降级", UPDATE: "更新", ALL_CLEAR: "解除"}


def message_kind(msg_type: str, all_clear: bool, colour: str | None, previous_colour: str | None) -> str:
    """An all-clear (Cancel, AllClear, 解除) whatever its type; an Update by the direction of its colour
    against the warning it changes (升级, 降级, else 更新); anything else a first Alert."""
    if all_clear or msg_type == "Cancel":
        return ALL_CLEAR
    if msg_type != "Update":
        return ALERT
    if colour in COLOURS and previous_colour in COLOURS:
        step = COLOURS.index(colour) - COLOURS.index(previous_colour)
        if step > 0:
            return UPGRADE
        if step < 0:
            return DOWNGRADE
    return UPDATE


def summary(kind: str, event: str, colour: str | None, previous_colour: str | None, sender_name: str = "") -> str:
    """What the message does, in one line: 郑州市气象台解除暴雨红色预警信号, 暴雨橙色预警升级为红色预警 …"""
    new, old = COLOUR_LABELS.get(colour or "", ""), COLOUR_LABELS.get(previous_colour or "", "")
    who = sender_name.strip()
    if kind == ALL_CLEAR:
        return f"{who}解除{event}{new}预警信号"
    if kind in (UPGRADE, DOWNGRADE):
        change = f"{event}{old}预警{CHANGE_VERBS[kind]}为{new}预警"
        return f"{who}将{change}" if who else change
    if kind == UPDATE:
        return f"{who}更新{event}{new}预警" if who else f"{event}{new}预警更新"
    return f"{who}发布{event}{new}预警信号"


def template_for(route_template: str, kind: str, wording: dict[str, str]) -> str:
    """The template of a message of `kind`: the route's for an Alert and for a kind `wording` leaves empty."""
    if kind == ALERT:
        return route_template
    return wording.get(kind) or route_template
