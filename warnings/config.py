"""The `[warnings]` section: departments, channels, templates, routing tree, 叫应 and delivery settings."""

from __future__ import annotations

import re
import string
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from fangxun.core.settings import Strict as _Strict
from fangxun.plans.unit_rules import full_code
from fangxun.warnings.delivery.channels.config import ChannelConfig
from fangxun.warnings.duty.roster_rules import parse_shift_change
from fangxun.warnings.vocabulary import COLOUR_NAMES, COLOURS, MSG_TYPES, PERSON_LEVELS

PLACEHOLDERS = ("event", "colour_label", "headline", "description", "instruction", "guidance", "areas",
                "onset", "expires", "ack_url", "recipient", "sender_name", "previous_colour_label", "change",
                "summary", "duty")

Colour = Literal[COLOURS]
MsgType = Literal[MSG_TYPES]
PersonLevel = Literal[PERSON_LEVELS]

_KEY = re.compile(r"^[a-z][a-z0-9_-]*$")
# Tables a user file replaces whole instead of merging into: a channel whose kind changes, or a
# contact reached another way, must not keep fields of the default one.
REPLACED_WHOLE = (("channels", "*"), ("departments", "*", "desk"), ("departments", "*", "leader"),
                  ("escalation", "city_duty_desk"))


def colour_value(value: object) -> object:
    """Accept blue/蓝色/蓝 alike; anything else is reported in Chinese."""
    if isinstance(value, str):
        value = COLOUR_NAMES.get(value.strip(), value.strip())
        if value not in COLOURS:
            raise ValueError(f'未知颜色 "{value}"（可选 {"、".join(COLOURS)}）')
    return value


class Contact(_Strict):
    """Someone reached through one named channel at one address."""

    name: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    # Channel-specific: a phone number, an e-mail address, a user id; empty for a group robot.
    address: str = ""


class Department(_Strict):
    """A department on the flood-control command (防指成员单位)."""

    name: str = Field(min_length=1)
    desk: Contact
    leader: Contact


class Template(_Strict):
    """A message title and text with `{placeholders}` from PLACEHOLDERS."""

    title: str = Field(min_length=1)
    text: str = Field(min_length=1)

    @field_validator("title", "text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(value) if field is not None]
        except ValueError as exc:
            raise ValueError(f"模板格式错误（花括号不配对？字面花括号请写成 {{{{ }}}}）：{exc}") from None
        for field in fields:
            if field not in PLACEHOLDERS:
                raise ValueError(f'未知占位符 "{{{field}}}"（可用：{"、".join(PLACEHOLDERS)}）')
        return value

    @model_validator(mode="after")
    def _guidance_once(self) -> Template:
        used = self.placeholders
        if "guidance" in used and "instruction" in used:
            raise ValueError("{guidance} 已含发布单位的防御指引（无指引时才用国家标准防御指南），"
                             "不能与 {instruction} 同时使用，否则指引会重复")
        return self

    @property
    def placeholders(self) -> set[str]:
        """The placeholders the title and text use."""
        return {field for value in (self.title, self.text)
                for _, field, _, _ in string.Formatter().parse(value) if field is not None}


class Wording(_Strict):
    """The template of each kind of message that is not a first Alert (an Alert keeps its route's); "" keeps
    the route's template for that kind too."""

    upgrade: str = "upgrade"  # an Update that raises the colour (升级)
    downgrade: str = "downgrade"  # an Update that lowers it (降级)
    update: str = "update"  # any other Update (更新)
    all_clear: str = "all_clear"  # a Cancel, an AllClear or a 解除


class AllClear(_Strict):
    """What an all-clear asks of its recipients: by default nothing (no 叫应 deadline, reminder or escalation)."""

    ack: bool = False


class DefaultRoute(_Strict):
    """The root of the routing tree: what every route inherits, and what applies when none matches."""

    departments: tuple[str, ...] = ()
    person_levels: tuple[PersonLevel, ...] = ()
    # Empty: each department through its own desk contact's channel and address.
    department_channel: str = ""
    person_channels: tuple[str, ...] = ()
    template: str = Field(min_length=1)


class Route(_Strict):
    """A routing-tree node: matchers, options that override the parent's, children."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    events: tuple[str, ...] | None = None
    colours: tuple[Colour, ...] | None = None
    min_colour: Colour | None = None
    msg_types: tuple[MsgType, ...] | None = None
    area_units: tuple[str, ...] | None = None

    departments: tuple[str, ...] | None = None
    person_levels: tuple[PersonLevel, ...] | None = None
    department_channel: str | None = None
    person_channels: tuple[str, ...] | None = None
    template: str | None = None

    continue_: bool = Field(False, alias="continue")
    routes: tuple[Route, ...] = ()

    @field_validator("colours", mode="before")
    @classmethod
    def _colour_list(cls, value: object) -> object:
        return [colour_value(item) for item in value] if isinstance(value, list | tuple) else value

    @field_validator("min_colour", mode="before")
    @classmethod
    def _min_colour(cls, value: object) -> object:
        return colour_value(value)

    @field_validator("msg_types", mode="before")
    @classmethod
    def _msg_types(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            for item in value:
                if item not in MSG_TYPES:
                    raise ValueError(f'未知消息类型 "{item}"（可选 {"、".join(MSG_TYPES)}）')
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or any(not item.strip() for item in value)):
            raise ValueError("预警事件不能为空")
        return value

    @field_validator("area_units")
    @classmethod
    def _area_units(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for code in value or ():
            if full_code(code) is None or code != code.strip():
                raise ValueError(f'区划代码 "{code}" 应为 6、9 或 12 位数字')
        return value

    @model_validator(mode="after")
    def _one_colour_matcher(self) -> Route:
        if self.colours is not None and self.min_colour is not None:
            raise ValueError("colours 与 min_colour 只能二选一")
        return self


class AckDeadlines(_Strict):
    """Minutes a recipient has to acknowledge (叫应), per colour."""

    red: int = Field(15, ge=1, le=24 * 60)
    orange: int = Field(30, ge=1, le=24 * 60)
    yellow: int = Field(60, ge=1, le=24 * 60)
    blue: int = Field(120, ge=1, le=24 * 60)
    # A warning without a colour (e.g. a hand-entered 雷电 notice).
    uncoloured: int = Field(60, ge=1, le=24 * 60)

    def minutes(self, colour: str | None) -> int:
        """The deadline in minutes for `colour` (None: uncoloured)."""
        return getattr(self, colour) if colour in COLOURS else self.uncoloured


class Escalation(_Strict):
    """Where an unacknowledged notification goes last: the city flood-control duty desk."""

    enabled: bool = True
    city_duty_desk: Contact


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'未知时区 "{value}"') from None
    return value


class Duty(_Strict):
    """Duty rosters (值班表): when the shift changes, in local time of `timezone`."""

    shift_change: str = "08:00"
    timezone: str = "Asia/Shanghai"

    @field_validator("shift_change")
    @classmethod
    def _valid_change(cls, value: str) -> str:
        parse_shift_change(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)


class RedialPolicy(_Strict):
    """How an unanswered 叫应 call of one colour is redialled before escalating (电话重拨)."""

    # false: calls of this colour are not redialled (the ack deadline and reminders apply, as for other channels).
    enabled: bool = True
    # Times the first number is called again while not answered (or answered without key 1).
    redials: int = Field(0, ge=0, le=10)
    interval_minutes: int = Field(1, ge=1, le=120)
    # Then one call to each further number: the landline (channels {"landline": …}), the deputy (副责任人).
    other_numbers: bool = True
    # A call without a result after this counts as unanswered (a gateway that never reported).
    result_wait_minutes: int = Field(5, ge=1, le=120)


class Redial(_Strict):
    """Redial policies of voice calls by colour; a colour without one waits for its ack deadline (reminders)."""

    red: RedialPolicy | None = RedialPolicy(redials=3, interval_minutes=1)
    orange: RedialPolicy | None = RedialPolicy(redials=2, interval_minutes=2)
    yellow: RedialPolicy | None = RedialPolicy(redials=1, interval_minutes=5)
    blue: RedialPolicy | None = None
    uncoloured: RedialPolicy | None = None

    def policy(self, colour: str | None) -> RedialPolicy | None:
        """The policy of `colour` (None: uncoloured); None when calls of it are not redialled."""
        policy = getattr(self, colour) if colour in COLOURS else self.uncoloured
        return policy if policy is not None and policy.enabled else None


GroupAnswer = Literal["one", "each"]


class QuietHours(_Strict):
    """Blue and yellow notifications falling in this local window wait for its end; start == end: off."""

    start: time = time(22, 0)
    end: time = time(7, 0)
    timezone: str = "Asia/Shanghai"

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> object:
        if isinstance(value, str):
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
                raise ValueError(f'时间 "{value}" 应写成 HH:MM')
            hours, minutes = value.strip().split(":")
            return time(int(hours), int(minutes))
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)


class Retry(_Strict):
    """Backoff of failed deliveries: base * 2**attempt, capped, ± jitter; dead after max_attempts."""

    max_attempts: int = Field(6, ge=1, le=100)
    base_seconds: float = Field(2, gt=0)
    max_seconds: float = Field(300, gt=0)
    jitter: float = Field(0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _cap_above_base(self) -> Retry:
        if self.max_seconds < self.base_seconds:
            raise ValueError("max_seconds 不能小于 base_seconds")
        return self


MAX_LIFETIME_HOURS = 30 * 24


def _lifetime_hours() -> object:
    return Field(None, ge=1, le=MAX_LIFETIME_HOURS)


class ColourHours(_Strict):
    """Hours a warning of each colour is taken to last when it names no <expires> (unset: not by colour)."""

    blue: int | None = _lifetime_hours()
    yellow: int | None = _lifetime_hours()
    orange: int | None = _lifetime_hours()
    red: int | None = _lifetime_hours()

    def of(self, colour: str | None) -> int | None:
        """The hours set for `colour`, or None."""
        return getattr(self, colour) if colour in COLOURS else None


class EventLifetime(ColourHours):
    """The lifetime of one event (暴雨, 高温 …): `hours` for every colour, or per colour."""

    hours: int | None = _lifetime_hours()

    @model_validator(mode="after")
    def _something_set(self) -> EventLifetime:
        if self.hours is None and all(self.of(colour) is None for colour in COLOURS):
            raise ValueError(f"至少给出 hours 或一种颜色（{'、'.join(COLOURS)}）的小时数")
        return self


class Lifetime(_Strict):
    """How long a warning without <expires> is taken to last: per event and colour, per event, per colour,
    else default_hours (the most specific wins). An all-clear is never given one."""

    default_hours: int = Field(24, ge=1, le=MAX_LIFETIME_HOURS)
    colours: ColourHours = ColourHours()
    events: dict[str, EventLifetime] = {}

    @field_validator("events")
    @classmethod
    def _event_names(cls, value: dict[str, EventLifetime]) -> dict[str, EventLifetime]:
        for name in value:
            if not name.strip() or name != name.strip():
                raise ValueError(f'预警种类 "{name}" 不能为空，前后也不能有空格')
        return value

    def hours(self, event: str, colour: str | None) -> int:
        """The hours a warning of `event` and `colour` is taken to last."""
        own = self.events.get(event)
        for hours in (own and own.of(colour), own and own.hours, self.colours.of(colour)):
            if hours is not None:
                return hours
        return self.default_hours


class Feed(_Strict):
    """A CAP source polled by the scheduler: an Atom/RSS URL or a directory."""

    name: str = Field(min_length=1)
    url: str | None = None
    directory: str | None = None
    interval_seconds: int = Field(60, ge=5, le=24 * 3600)

    @model_validator(mode="after")
    def _one_source(self) -> Feed:
        if (self.url is None) == (self.directory is None):
            raise ValueError("url 与 directory 必须且只能给出一个")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f'url "{self.url}" 应以 http:// 或 https:// 开头')
        return self


class WarningSettings(_Strict):
    """Everything under `[warnings]`."""

    departments: dict[str, Department] = {}
    channels: dict[str, ChannelConfig] = {}
    templates: dict[str, Template] = {}
    wording: Wording = Wording()
    all_clear: AllClear = AllClear()
    default_route: DefaultRoute = DefaultRoute(template="default")
    routes: tuple[Route, ...] = ()
    ack_deadline_minutes: AckDeadlines = AckDeadlines()
    repeat_before_escalate: int = Field(1, ge=0, le=10)
    escalation: Escalation | None = None
    redial: Redial = Redial()
    # Per escalation step (0: the first notices, 1: the first escalation, …; the last entry goes on): "one" —
    # one answer from a group (a unit's 责任人 and 副责任人, a desk) stops its escalation; "each" — everyone must.
    group_answer: tuple[GroupAnswer, ...] = Field(("each",), min_length=1)
    quiet_hours: QuietHours = QuietHours()
    duty: Duty = Duty()
    retry: Retry = Retry()
    feeds: tuple[Feed, ...] = ()
    lifetime: Lifetime = Lifetime()
    max_cap_bytes: int = Field(1_048_576, ge=1024, le=64 * 1_048_576)

    @field_validator("departments", "channels", "templates")
    @classmethod
    def _short_keys(cls, value: dict) -> dict:
        for key in value:
            if not _KEY.match(key):
                raise ValueError(f'名称 "{key}" 应为小写英文字母开头的短名（字母、数字、- 或 _）')
        return value

    @field_validator("feeds")
    @classmethod
    def _unique_feed_names(cls, value: tuple[Feed, ...]) -> tuple[Feed, ...]:
        names = [feed.name for feed in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"订阅源名称重复：{'、'.join(duplicates)}")
        return value

    def group_rule(self, step: int) -> str:
        """The group-answer rule ("one" or "each") of escalation step `step`."""
        return self.group_answer[min(step, len(self.group_answer) - 1)]

    @property
    def tree(self) -> Route:
        """The routing tree with `default_route` as its root."""
        root = self.default_route
        return Route(departments=root.departments, person_levels=root.person_levels,
                     department_channel=root.department_channel, person_channels=root.person_channels,
                     template=root.template, routes=self.routes)


Key = tuple[str | int, ...]


def reference_problems(config: WarningSettings) -> list[tuple[Key, str]]:
    """Every name that points nowhere, as (key path under `warnings`, Chinese message)."""
    problems: list[tuple[Key, str]] = []

    def channel(key: Key, name: str) -> None:
        if name not in config.channels:
            problems.append((key, f'未知渠道 "{name}"'))

    for dept_key, dept in config.departments.items():
        channel(("departments", dept_key, "desk", "channel"), dept.desk.channel)
        channel(("departments", dept_key, "leader", "channel"), dept.leader.channel)
    if config.escalation is not None:
        channel(("escalation", "city_duty_desk", "channel"), config.escalation.city_duty_desk.channel)

    def options(key: Key, node: DefaultRoute | Route) -> None:
        for name in node.departments or ():
            if name not in config.departments:
                problems.append((key + ("departments",), f'未知部门 "{name}"'))
        if node.department_channel:
            channel(key + ("department_channel",), node.department_channel)
        for name in node.person_channels or ():
            channel(key + ("person_channels",), name)
        if node.template is not None and node.template not in config.templates:
            problems.append((key + ("template",), f'未知模板 "{node.template}"'))

    def walk(key: Key, routes: tuple[Route, ...]) -> None:
        for index, child in enumerate(routes):
            options(key + (index,), child)
            walk(key + (index, "routes"), child.routes)

    options(("default_route",), config.default_route)
    walk(("routes",), config.routes)
    for kind, name in config.wording.model_dump().items():
        if name and name not in config.templates:
            problems.append((("wording", kind), f'未知模板 "{name}"'))
    all_clear = config.templates.get(config.wording.all_clear)
    if config.all_clear.ack and all_clear is not None and "ack_url" not in all_clear.placeholders:
        problems.append((("all_clear", "ack"), f'解除需要叫应，但解除模板 "{config.wording.all_clear}" 不含 {{ack_url}}'))
    return problems
