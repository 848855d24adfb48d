"""Rules of the administrative hierarchy: code shape, levels, parents. Pure, no I/O."""

from __future__ import annotations

import re

LEVELS = ("province", "city", "district", "township", "village")
LEVEL_ALIASES = {
    "province": "province", "省": "province", "省级": "province", "自治区": "province", "直辖市": "province",
    "city": "city", "市": "city", "地级市": "city",
    "district": "district", "county": "district", "区县": "district", "县区": "district",
    "县级": "district", "区": "district", "县": "district", "县级市": "district",
    "township": "township", "乡镇": "township", "乡镇街道": "township", "街道": "township",
    "乡": "township", "镇": "township",
    "village": "village", "村": "village", "社区": "village", "村社区": "village", "村居": "village",
}
LEVEL_LABELS = {"province": "省", "city": "市", "district": "区县", "township": "乡镇街道", "village": "村社区"}
# The level as a grade of government in running text ("区县级").
LEVEL_GRADES = {"province": "省级", "city": "市级", "district": "区县级", "township": "乡镇（街道）级", "village": "村（社区）级"}
# The level each level answers to: village -> township -> district -> city -> province.
PARENT_LEVEL = dict(zip(LEVELS[1:], LEVELS[:-1]))
# Levels whose code every unit below them carries in its own `<level>_code` column.
ANCESTOR_LEVELS = LEVELS[:-1]
# Levels whose plans name 责任人 that warnings reach (the city answers through its duty desk).
PERSON_LEVELS = ("district", "township", "village")
# Levels that may head a registry without their parent held: a province, or a city deployment.
TOP_LEVELS = ("province", "city")
_CODE = re.compile(r"\d{12}")
# Digits of a 12-digit code: province, city, district (county), township, village.
_SEGMENTS = (2, 2, 2, 3, 3)
# Short codes name a unit by its leading digits: a 6-digit adcode (district) or a 9-digit township code.
_SHORT_CODE_WIDTHS = (6, 9, 12)


def normalise_code(raw: object) -> str:
    """The code as text; a spreadsheet number such as 410102000000.0 becomes its digits."""
    text = str(raw).strip() if raw is not None else ""
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def is_valid_code(code: str) -> bool:
    """True for a 12-digit 统计用区划代码."""
    return bool(_CODE.fullmatch(code))


def full_code(raw: object) -> str | None:
    """The 12-digit code named by a 12-digit code, a 6-digit adcode or a 9-digit township code; else None."""
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit() or len(text) not in _SHORT_CODE_WIDTHS:
        return None
    return text.ljust(12, "0")


def significant_prefix(code: str) -> str:
    """The digits of a 6/9/12-digit unit code that name the unit (410100000000 -> 4101): every unit
    below it has a code starting with them."""
    code = code.ljust(12, "0")
    kept, position = 0, 0
    for width in _SEGMENTS:
        if code[position:position + width].strip("0"):
            kept = position + width
        position += width
    return code[:kept]


def level_from_code(code: str) -> str:
    """The level a 12-digit code's shape implies (trailing zero groups); a pseudo-city such as 省直辖县级行政区划
    (419000000000) has a city's shape."""
    if code[2:] == "0000000000":
        return "province"
    if code[4:] == "00000000":
        return "city"
    if code[6:] == "000000":
        return "district"
    if code[9:] == "000":
        return "township"
    return "village"


def normalise_level(raw: str | None) -> str | None:
    """Map `county`, Chinese labels etc. to a level; None when blank; raises on unknown."""
    text = (raw or "").strip().lower()
    if not text:
        return None
    if text not in LEVEL_ALIASES:
        raise ValueError(f"未知级别 {raw!r}（可用 province/city/district/county/township/village 或 省/市/区县/乡镇/村）")
    return LEVEL_ALIASES[text]


def levels_below(level: str) -> tuple[str, ...]:
    """`level` and every level under it (a subtree's levels)."""
    return LEVELS[LEVELS.index(level):] if level in LEVELS else LEVELS


def level_rank(level: str | None) -> int:
    """0 for the province … 4 for a village; an unknown level ranks below them all."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def ancestors(level: str, code: str, parent_code: str | None, parent_ancestors: dict | None) -> dict:
    """The province/city/district/township codes of a unit, given its parent's own ancestor columns."""
    row = {f"{ancestor}_code": None for ancestor in ANCESTOR_LEVELS}
    if parent_ancestors:
        row.update(parent_ancestors)
    if level != "village":
        row[f"{level}_code"] = code
    return row
