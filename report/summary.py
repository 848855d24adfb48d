"""The summary paragraph of the annual report, in the register of the bureau's yearly report. Pure."""

from __future__ import annotations

from fangxun.plans.unit_rules import LEVEL_GRADES
from fangxun.warnings.events.config import LEVEL_LABELS
from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOURS


def _number(value: float | int) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _plans(year: int, plans: dict) -> str:
    in_force = {level: sum(n for status, n in counts.items() if status != "withdrawn")
                for level, counts in plans["by_level"].items()}
    levels = "、".join(f"{word}{in_force[level]}个" for level, word in LEVEL_GRADES.items() if level in in_force)
    whole = "全省" if "province" in in_force else "全市"
    return f"{year}年，{whole}共编制防汛应急预案及避险安置预案{plans['registered']}个，其中{levels}"


def _events(events: dict) -> str:
    labels = {kind: label if label.endswith("过程") else label + "过程" for kind, label in events["labels"].items()}
    answered = [f"{count}轮{labels.get(kind, kind)}" for kind, count in events["by_kind"].items() if count]
    if not answered:
        return "全年未发生需应对的降雨和雨雪冰冻过程"
    return "有效应对了" + "和".join(answered)


def _warnings(warnings: dict) -> str | None:
    if not warnings["total"]:
        return None
    parts = []
    for index, (event, counts) in enumerate(warnings["by_event"].items()):
        text = f"{event}预警{counts['total']}次"
        colours = [f"{COLOUR_LABELS[c]}{counts[c]}次" for c in reversed(COLOURS) if counts[c]]
        if index == 0 and colours:  # the most frequent type with its colours; the others by count only
            text += f"（{'、'.join(colours)}）"
        parts.append(text)
    return "发布" + "、".join(parts)


def _acknowledgement(weather: dict) -> str | None:
    if not weather["sent"]:
        return None
    text = f"通知相关部门和责任人{weather['sent']}人次"
    if weather["ack_rate"] is not None:
        text += f"，叫应率{_number(weather['ack_rate'])}%"
    ways = weather.get("acknowledged_by") or {}
    if ways.get("voice") or ways.get("sms"):
        text += (f"（链接确认{ways['link']}人次、电话按键确认{ways['voice']}人次、短信回复确认{ways['sms']}人次）")
    if weather.get("calls", {}).get("calls"):
        calls = weather["calls"]
        text += f"，拨打叫应电话{calls['calls']}次、接通{calls['answered'] + calls['hung_up_early']}次"
    return text


def _responses(decisions: dict) -> str:
    activations = [entry for entry in decisions["by_level"] if entry["activate"]]
    total = sum(entry["activate"] for entry in activations)
    if not total:
        return "全年未启动防汛应急响应"
    levels = "、".join(f"{LEVEL_LABELS.get(entry['level'], entry['level'])}{entry['activate']}次"
                       for entry in activations)
    text = f"启动防汛应急响应{total}次（{levels}）"
    upgrades = sum(entry["upgrade"] for entry in decisions["by_level"])
    if upgrades:
        highest = min(entry["level"] for entry in decisions["by_level"] if entry["activate"] or entry["upgrade"])
        text += f"，其中{upgrades}次提升响应级别，最高至{LEVEL_LABELS.get(highest, highest)}"
    return text


def _people(totals: dict) -> str:
    parts = []
    if totals["evacuated"]:
        parts.append(f"累计转移群众{totals['evacuated']}人")
    if totals["housed"]:
        parts.append(f"安置{totals['housed']}人")
    deaths, missing, injured = totals["deaths"], totals["missing"], totals["injured"]
    # "No deaths" is said only when the recorded deaths are zero or nobody reported any.
    if deaths:
        parts.append(f"因灾死亡{deaths}人" + (f"、失踪{missing}人" if missing else ""))
    else:
        parts.append("未发生因灾死亡" + (f"，失踪{missing}人" if missing else ""))
    if injured:
        parts.append(f"受伤{injured}人")
    if totals["economic_loss"]:
        parts.append(f"直接经济损失{_number(round(totals['economic_loss'], 1))}万元")
    return "，".join(parts)


def summary_text(figures: dict) -> str:
    """One paragraph from the figures: plans, events, warnings and 叫应, responses, people and casualties."""
    answering = "，".join(filter(None, (_events(figures["events"]), _warnings(figures["warnings"]),
                                        _acknowledgement(figures["notifications"]["warnings"]))))
    clauses = (_plans(figures["year"], figures["plans"]), answering, _responses(figures["decisions"]),
               _people(figures["journal"]["totals"]))
    return "；".join(clauses) + "。"
