"""The plan fields, declared once: type and validation, Chinese label, the other headers a file may
use, whether files carry it and whether an update may change it. The API, the file import and export,
the views and the writes all read this declaration; labels in Chinese."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from fangxun.core.times import FIRST_YEAR, LAST_YEAR, year_in_range
from fangxun.plans.unit_rules import is_valid_code, normalise_code

KIND_LABELS = {
    "flood_plan": "防汛应急预案",
    "flood_scheme": "防汛应急方案",
    "evacuation": "紧急避险安置预案",
    "other": "其他预案",
}
LIFECYCLE_LABELS = {"active": "有效", "revising": "修订中", "withdrawn": "已废止"}
STATUS_LABELS = {"current": "有效", "due_soon": "即将到期", "overdue": "逾期未评估",
                 "revising": "修订中", "withdrawn": "已废止"}
ROLE_LABELS = {"responsible": "责任人", "deputy": "副责任人", "duty_desk": "值班室", "liaison": "联络员"}
# The responsible persons' columns of a plan file (not plan fields: contacts of the plan).
CONTACT_LABELS = {"responsible_name": "责任人", "responsible_phone": "责任人电话",
                  "deputy_name": "副责任人", "deputy_phone": "副责任人电话"}
# A plan is its unit's plan of its kind (uq_plans_unit_kind).
IDENTITY = ("unit_code", "kind")


def _by_key_or_label(value: object, labels: dict[str, str], what: str) -> str:
    text = str(value or "").strip()
    if text in labels:
        return text
    for key, label in labels.items():
        if text == label:
            return key
    raise ValueError(f"未知{what} {text!r}，可选：" + "、".join(f"{k}/{v}" for k, v in labels.items()))


def parse_kind(value: object) -> str:
    """A plan kind from its key (flood_plan) or Chinese label (防汛应急预案)."""
    return _by_key_or_label(value, KIND_LABELS, "预案类型")


def parse_date(value: object) -> date | None:
    """A date from a date, a datetime, or ISO / 2024/5/1 / 2024年5月1日 text; blank is None."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
    else:
        day = _date_of_text(value)
        if day is None:
            return None
    if not year_in_range(day.year):  # a review date years later must still be on the calendar
        raise ValueError(f"日期 {day.isoformat()} 超出可用范围（{FIRST_YEAR} 年至 {LAST_YEAR} 年）")
    return day


def _date_of_text(value: object) -> date | None:
    text = str(value).strip()
    if not text:
        return None
    for old, new in (("年", "-"), ("月", "-"), ("日", ""), ("/", "-"), (".", "-")):
        text = text.replace(old, new)
    try:
        year, month, day = (int(part) for part in text.split(" ")[0].split("-"))
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"不是有效日期：{value!r}（应为 YYYY-MM-DD）") from None


def normalise_phone(value: object) -> str | None:
    """Digits (and a leading +) of a phone number; blank is None; too short raises."""
    text = normalise_code(value)
    if not text:
        return None
    digits = text if text.isdigit() else "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if len(digits.lstrip("+")) < 7 or len(digits) > 20:
        raise ValueError(f"电话号码无效：{value!r}")
    return digits


def format_phone(phone: str | None) -> str:
    """A mobile number shown as 139-0000-1234; others unchanged."""
    if phone and len(phone) == 11 and phone.isdigit():
        return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    return phone or ""


def parse_lifecycle(value: object) -> str:
    """A plan's state from its key (active) or label (有效); blank is active."""
    return _by_key_or_label(value or "active", LIFECYCLE_LABELS, "状态")


def parse_cycle(value: object) -> int | None:
    """A review cycle in months as a whole number (also 24.0 from a spreadsheet); blank is None."""
    text = normalise_code(value)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"评估周期应为整数月数：{value!r}") from None


def review_order_problem(approved_on: date | None, last_reviewed_on: date | None) -> str | None:
    """Why a review date cannot be, or None."""
    if approved_on and last_reviewed_on and last_reviewed_on < approved_on:
        return "最近评估日期早于批准日期"
    return None


def _text(value: object) -> str:
    # Not normalise_code: a version typed as 2.0 must stay "2.0".
    return "" if value is None else str(value).strip()


def parse_unit_code(value: object) -> str:
    """A 12-digit unit code, also given as a spreadsheet number (410102000000.0)."""
    code = normalise_code(value)
    if not is_valid_code(code):
        raise ValueError(f"区划代码应为 12 位数字：{value!r}")
    return code


Text = Annotated[str, BeforeValidator(_text)]
# A 12-digit unit code, also given as a spreadsheet number (410102000000.0).
UnitCode = Annotated[str, BeforeValidator(parse_unit_code)]
OptionalDate = Annotated[date | None, BeforeValidator(parse_date)]


@dataclass(frozen=True)
class Column:
    """How a plan field appears outside the model (the metadata of a PlanFields annotation)."""

    label: str                                # Chinese: file header, import problems
    aliases: tuple[str, ...] = ()             # other headers a file may use for it
    labels: Mapping[str, str] | None = None   # key -> Chinese of a field of fixed choices; files hold the label
    in_files: bool = True                     # exported, and read by the import
    updatable: bool = True                    # update_plan may change it


class PlanFields(BaseModel):
    """One plan as entered: by API body or by an import row (blank cycle = kind's default)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    unit_code: Annotated[UnitCode, Column("区划代码", ("单位代码", "统计用区划代码", "代码"), updatable=False)]
    kind: Annotated[str, Column("预案类型", ("预案类别", "类别", "预案种类", "类型"), labels=KIND_LABELS,
                                updatable=False)]
    title: Annotated[str, Column("预案名称", ("预案标题", "标题"))] = Field(min_length=1, max_length=200)
    owner_org: Annotated[Text, Column("编制单位", ("制定单位", "责任单位"))] = Field("", max_length=200)
    approved_on: Annotated[OptionalDate, Column("批准日期", ("批准时间", "印发日期", "发布日期"))] = None
    # The review date moves only by a review (record_review), or by a file.
    last_reviewed_on: Annotated[OptionalDate, Column("最近评估日期", ("评估日期", "最近评估时间", "最近修订日期"),
                                                     updatable=False)] = None
    review_cycle_months: Annotated[int | None, Column("评估周期(月)", ("评估周期",))] = Field(None, ge=1, le=240)
    version: Annotated[Text, Column("版本", ("版本号",))] = Field("1.0", max_length=20)
    lifecycle: Annotated[str, Column("状态", ("预案状态",), labels=LIFECYCLE_LABELS)] = "active"

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> str:
        return parse_kind(value)

    @field_validator("lifecycle", mode="before")
    @classmethod
    def _lifecycle(cls, value: object) -> str:
        return parse_lifecycle(value)

    @field_validator("review_cycle_months", mode="before")
    @classmethod
    def _cycle(cls, value: object) -> int | None:
        return parse_cycle(value)

    @model_validator(mode="after")
    def _review_after_approval(self) -> "PlanFields":
        problem = review_order_problem(self.approved_on, self.last_reviewed_on)
        if problem:
            raise ValueError(problem)
        return self


def _columns() -> dict[str, Column]:
    return {name: next(m for m in info.metadata if isinstance(m, Column))
            for name, info in PlanFields.model_fields.items()}


PLAN_COLUMNS: dict[str, Column] = _columns()
PLAN_KEYS = tuple(PLAN_COLUMNS)
FILE_KEYS = tuple(name for name, column in PLAN_COLUMNS.items() if column.in_files)
UPDATABLE = tuple(name for name, column in PLAN_COLUMNS.items() if column.updatable)
FIELD_LABELS = {**{name: column.label for name, column in PLAN_COLUMNS.items()}, **CONTACT_LABELS}


def plan_values(plan: Any) -> dict:
    """The plan fields of a stored plan as JSON-ready values (dates in ISO form)."""
    values = {name: getattr(plan, name) for name in PLAN_KEYS}
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in values.items()}


def plan_cells(plan: Any) -> dict:
    """The file fields of a stored plan as the cells a file holds (labels of choices, ISO dates, blanks)."""
    cells = {}
    for name in FILE_KEYS:
        value, labels = getattr(plan, name), PLAN_COLUMNS[name].labels
        if labels is not None:
            value = labels.get(value, value)
        cells[name] = value.isoformat() if isinstance(value, date) else "" if value is None else value
    return cells


class ContactFields(BaseModel):
    """A responsible person as entered through the API."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: str = "responsible"
    name: str = Field(min_length=1, max_length=50)
    position: str = Field("", max_length=100)
    phone: str | None = None
    channels: dict[str, str] = Field(default_factory=dict)

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: object) -> str:
        return _by_key_or_label(value, ROLE_LABELS, "角色")

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: object) -> str | None:
        return normalise_phone(value)
