"""Rules of the administrative hierarchy: code shape, levels, parents. Pure, no I/O."""

from __future__ import annotations

import re

LEVELS = ("city", "district", "township", "village")
LEVEL_ALIASES = {
    "city": "city", "市": "city", "地级市": "city",
    "district": "district", "county": "district", "区县": "district", "县区": "district",
    "县级": "district", "区": "district", "县": "district", "县级市": "district",
    "township": "township", "乡镇": "township", "乡镇街道": "township", "街道": "township",
    "乡": "township", "镇": "township",
    "village": "village", "村": "village", "社区": "village", "村社区": "village", "村居": "village",
}
LEVEL_LABELS = {"city": "市", "district": "区县", "township": "乡镇街道", "village": "村社区"}
PARENT_LEVEL = {"district": "city", "township": "district", "village": "township"}
_CODE = re.compile(r"\d{12}")


def normalise_code(raw: object) -> str:
    """The code as text; a spreadsheet number such as 410102000000.0 becomes its digits."""
    text = str(raw).strip() if raw is not None else ""
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def is_valid_code(code: str) -> bool:
    """True for a 12-digit 统计用区划代码."""
    return bool(_CODE.fullmatch(code))


def level_from_code(code: str) -> str:
    """The level a 12-digit code's shape implies (trailing zero groups)."""
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
        raise ValueError(f"未知级别 {raw!r}（可用 city/district/county/township/village 或 市/区县/乡镇/村）")
    return LEVEL_ALIASES[text]


def ancestors(level: str, code: str, parent_code: str | None, parent_ancestors: dict | None) -> dict:
    """The city/district/township codes of a unit, given its parent's own ancestor columns."""
    row = {"city_code": None, "district_code": None, "township_code": None}
    if parent_ancestors:
        row.update(parent_ancestors)
    if level != "village":
        row[f"{level}_code"] = code
    return row
