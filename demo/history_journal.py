"""The demo year's journal: what departments and units reported against each event, and one correction. Pure."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from fangxun.demo.history_script import Process
from fangxun.settings import Settings

# Scale of the figures by the highest response level reached (None: no response was activated).
SCALE = {None: 0.3, 4: 1, 3: 3, 2: 8, 1: 30}
# What each department reports at any level, in the bureau's words; {n} {m} {k} are drawn per entry.
DEPARTMENT_ACTIONS = {
    "water": "水库、河道加强巡查，出动巡查人员{n}人次，{k}座水库预泄腾库",
    "transport": "出动巡查人员{n}人次，临时封闭易积水路段{k}处，调整公交线路{m}条",
    "police": "出动警力{n}人次，对下穿隧道和易涝路段实行交通管制，封闭下穿隧道{k}处",
    "urban": "出动排水防涝人员{n}人次、抽排设备{m}台套，处置积水点{k}处",
    "planning": "地质灾害隐患点加密巡查{n}处次，转移受威胁群众{k}人",
    "weather": "滚动发布雨情预报和临近预警{k}期",
    "emergency": "救援队伍{m}支前置待命，组织救援{k}次",
    "education": "全市中小学、幼儿园停课，校外活动一律取消",
    "housing": "在建工地{k}处停止露天作业，基坑和塔吊人员撤离",
}
QUIET_ACTIONS = {"urban": "排水防涝队伍待命，检查雨水口和泵站，未发现明显积水",
                 "transport": "加强易积水路段巡查，道路通行正常"}


def _when(event: dict, rng: random.Random) -> datetime:
    """A server time during the event or in the half day after it."""
    span = (event["ended_at"] - event["started_at"]).total_seconds() + 12 * 3600
    return event["started_at"] + timedelta(seconds=rng.randint(3600, max(3601, int(span))))


def journal_entries(process: Process, event: dict, decisions: list[dict], threads: list, registry,
                    settings: Settings, next_id, rng: random.Random) -> list[dict]:
    """Entries of one event: the departments with actions at the highest level reached, and the districts
    (and, for the big process, townships) under orange or red, or under yellow when a response was on."""
    levels = [row["level"] for row in decisions if row["action"] != "terminate"]
    top = min(levels) if levels else None
    scale = SCALE[top]
    rows: list[dict] = []

    def add(**values) -> dict:
        row = {"id": next_id(), "event_id": event["id"], "recorded_at": _when(event, rng), "department": None,
               "unit_code": None, "corrects_id": None, "action": "", "text": "",
               **{figure: None for figure in ("evacuated", "shelters_opened", "housed", "roads_closed", "rescues",
                                              "deaths", "missing", "injured", "economic_loss")}}
        row.update(values)
        rows.append(row)
        return row

    departments = settings.warnings.departments
    if top is None:
        for key in rng.sample(sorted(QUIET_ACTIONS), rng.randint(1, 2)):
            add(author=departments[key].desk.name, department=key, action=QUIET_ACTIONS[key])
    else:
        level = settings.response.level(top)
        for key in sorted(level.actions if level else ()):
            if key not in departments:
                continue
            n, m, k = (max(1, round(rng.randint(20, 80) * scale)), rng.randint(2, 12),
                       max(1, round(rng.randint(1, 4) * scale ** 0.5)))
            figures = {}
            if key in ("transport", "police"):
                figures["roads_closed"] = k
            if key == "emergency":
                figures.update(rescues=k, deaths=0, missing=0, injured=rng.randint(1, 9) if process.big else 0)
            if key == "planning" and top <= 2:
                figures["evacuated"] = k
            add(author=departments[key].desk.name, department=key,
                action=DEPARTMENT_ACTIONS.get(key, "按预案落实防御措施").format(n=n, m=m, k=k), **figures)

    reporting = ("orange", "red") if top is None else ("yellow", "orange", "red")
    heavy = {unit.code for thread in threads for m in thread for unit in m.units
             if unit.level == "district" and m.colour in reporting and m.event in ("暴雨", "暴雪", "道路结冰")}
    correct_this = process.big
    for code in sorted(heavy):
        if code not in registry.units:
            continue
        evacuated = round(rng.uniform(40, 200) * scale)
        shelters = max(1, evacuated // 150)
        housed = round(evacuated * rng.uniform(0.4, 0.8))
        loss = round(rng.uniform(20, 200) * scale, 1) if top is not None and top <= 3 else None
        name = registry.units[code].name
        def action(moved: int) -> str:
            return f"转移低洼地区和危险区域群众{moved}人，开放避险安置点{shelters}处，集中安置{housed}人"

        typed = evacuated * (10 if correct_this else 1)
        entry = add(author=f"{name}防汛抗旱指挥部办公室", unit_code=code, action=action(typed),
                    evacuated=typed, shelters_opened=shelters, housed=housed,
                    economic_loss=loss, deaths=0 if process.big else None)
        if correct_this:
            # The district first typed ten times the number it evacuated; the correction restates every figure.
            correct_this = False
            wrong = entry["evacuated"]
            add(author=entry["author"], unit_code=code, corrects_id=entry["id"], action=action(evacuated),
                evacuated=evacuated, shelters_opened=shelters, housed=housed, economic_loss=loss,
                deaths=entry["deaths"], recorded_at=entry["recorded_at"] + timedelta(minutes=rng.randint(30, 180)),
                text=f"更正：转移人数误录为{wrong}人，实为{evacuated}人。")
        if process.big:
            for township in sorted(registry.townships.get(code, []))[:2]:
                moved = rng.randint(80, 600)
                add(author=f"{registry.units[township].name}防汛办", unit_code=township,
                    action=f"组织转移群众{moved}人，开放村级避险点{max(1, moved // 200)}处",
                    evacuated=None, shelters_opened=None, text=f"已上报{name}汇总。")
    return _in_time_order(rows)


def _in_time_order(rows: list[dict]) -> list[dict]:
    """The same entries with their ids handed out again in order of server time (as the server would)."""
    ids = sorted(row["id"] for row in rows)
    rows = sorted(rows, key=lambda row: (row["recorded_at"], row["id"]))
    renumber = {row["id"]: new for row, new in zip(rows, ids)}
    for row in rows:
        row["id"] = renumber[row["id"]]
        if row["corrects_id"] is not None:
            row["corrects_id"] = renumber[row["corrects_id"]]
    return rows
