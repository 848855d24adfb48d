"""The `[events]` and `[response]` sections: what opens an event, and the response levels with their actions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from fangxun.core.settings import Strict as _Strict
from fangxun.warnings.config import Colour, colour_value

EVENT_KINDS = ("rainfall", "snow_ice")
EventKind = Literal["rainfall", "snow_ice"]
# Response levels are stored as 1..4 (Ⅰ is the highest); config and people write them as I..IV.
LEVEL_KEYS = {"I": 1, "II": 2, "III": 3, "IV": 4}
LEVEL_LABELS = {1: "Ⅰ级", 2: "Ⅱ级", 3: "Ⅲ级", 4: "Ⅳ级"}
DECISION_ACTIONS = ("activate", "upgrade", "downgrade", "terminate")
DECISION_LABELS = {"activate": "启动", "upgrade": "提升", "downgrade": "降低", "terminate": "终止"}
Key = tuple[str | int, ...]


class EventKindSettings(_Strict):
    """One kind of weather process: which warnings belong to it and which open it."""

    label: str = Field(min_length=1)
    # Warnings of these types join an open event of this kind.
    warning_events: tuple[str, ...] = Field(min_length=1)
    # A warning of one of these types, at least this colour, opens an event when none of the kind is open.
    open_events: tuple[str, ...] = Field(min_length=1)
    open_min_colour: Colour = "yellow"

    @field_validator("open_min_colour", mode="before")
    @classmethod
    def _min_colour(cls, value: object) -> object:
        return colour_value(value)

    @model_validator(mode="after")
    def _opening_events_belong(self) -> EventKindSettings:
        stray = [event for event in self.open_events if event not in self.warning_events]
        if stray:
            raise ValueError(f'open_events 中的 {"、".join(stray)} 不在 warning_events 中')
        return self


class EventSettings(_Strict):
    """How warnings are grouped into events, and when an event closes itself."""

    # Hours after the last of an event's warnings expired or was cancelled before the event closes.
    quiet_hours: float = Field(6, ge=0, le=24 * 14)
    kinds: dict[EventKind, EventKindSettings] = {
        "rainfall": EventKindSettings(label="降雨过程", warning_events=("暴雨",), open_events=("暴雨",)),
        "snow_ice": EventKindSettings(label="雨雪冰冻", warning_events=("暴雪", "道路结冰"),
                                      open_events=("暴雪", "道路结冰")),
    }

    @model_validator(mode="after")
    def _each_event_one_kind(self) -> EventSettings:
        seen: dict[str, str] = {}
        for kind, settings in self.kinds.items():
            for event in settings.warning_events:
                if event in seen:
                    raise ValueError(f"预警事件 {event} 同时属于 {seen[event]} 和 {kind}")
                seen[event] = kind
        return self

    def kind_of(self, warning_event: str) -> str | None:
        """The event kind a warning of type `warning_event` belongs to, or None."""
        return next((kind for kind, settings in self.kinds.items() if warning_event in settings.warning_events),
                    None)


class ResponseRule(_Strict):
    """Proposes `level` when every condition holds for one of the event's active warnings (or all together)."""

    level: Literal["I", "II", "III", "IV"]
    name: str = Field(min_length=1)
    min_colour: Colour
    # Empty: any warning type of the event.
    events: tuple[str, ...] = ()
    # Districts (区县) touched by warnings of at least min_colour.
    min_districts: int = Field(0, ge=0)
    # Share of the city's area under warnings of at least min_colour (0..1).
    min_city_fraction: float = Field(0, ge=0, le=1)

    @field_validator("min_colour", mode="before")
    @classmethod
    def _min_colour(cls, value: object) -> object:
        return colour_value(value)

    @property
    def level_number(self) -> int:
        return LEVEL_KEYS[self.level]


class ResponseLevel(_Strict):
    """What a response level means: its name and each department's actions (部门 key -> actions)."""

    name: str = Field(min_length=1)
    actions: dict[str, tuple[str, ...]] = {}


class ResponseSettings(_Strict):
    """Proposal rules, checked Ⅰ first; the first that holds is the proposal. Decisions stay a person's."""

    rules: tuple[ResponseRule, ...] = ()
    levels: dict[Literal["I", "II", "III", "IV"], ResponseLevel] = {}
    # Decision notices go to each department with actions at the level, through its desk contact.
    template_title: str = "关于{decision}防汛{level}应急响应的通知"

    @model_validator(mode="after")
    def _rules_strongest_first(self) -> ResponseSettings:
        numbers = [rule.level_number for rule in self.rules]
        if numbers != sorted(numbers):
            raise ValueError("rules 须按级别从 I 到 IV 排列（先检查最高级别）")
        missing = sorted({rule.level for rule in self.rules} - set(self.levels))
        if missing:
            raise ValueError(f"rules 用到的级别 {', '.join(missing)} 在 levels 中没有定义")
        return self

    def level(self, number: int) -> ResponseLevel | None:
        """The settings of level 1..4, if configured."""
        key = next((k for k, v in LEVEL_KEYS.items() if v == number), None)
        return self.levels.get(key) if key else None


def response_reference_problems(response: ResponseSettings, departments: set[str]) -> list[tuple[Key, str]]:
    """Actions given to departments that do not exist, as (key under `response`, Chinese message)."""
    return [(("levels", key, "actions", dept), f'未知部门 "{dept}"')
            for key, level in response.levels.items() for dept in level.actions if dept not in departments]

