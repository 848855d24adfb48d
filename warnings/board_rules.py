"""The duty board's words and choices, as pure rules: its filters, its groups (district → township → village, and the
department desks), what a message of a thread is called on the timeline, and which message a thread shows first."""

from __future__ import annotations

from dataclasses import dataclass

from fangxun.core.errors import BadInput
from fangxun.plans.unit_rules import LEVEL_LABELS, is_valid_code, level_from_code
from fangxun.warnings.vocabulary import COLOURS, PERSON_LEVELS

# The filters of the recipients, each a count of every group (the same words on the chips and in the menu).
FILTERS = {"unacknowledged": "待确认", "overdue": "逾期未确认", "escalated": "已上报上级", "failed": "发送失败",
           "unreachable": "无联系方式", "acknowledged": "已确认"}
# The counts of a group, in the order the board shows them.
COUNT_KEYS = ("total", *FILTERS, "informed", "cancelled")
COUNT_LABELS = {"total": "接收人", **FILTERS, "informed": "仅告知", "cancelled": "已取消"}
LEVEL_FILTERS = {level: LEVEL_LABELS[level] for level in PERSON_LEVELS}
MAX_QUERY_CHARS = 50
PER_PAGE, MAX_PER_PAGE = 50, 200
# The digits of a phone number someone searches by, at least this many.
MIN_PHONE_DIGITS = 3
_PHONE_SEPARATORS = " -+()"

DESKS, OTHER, UNIT, SELF = "desks", "other", "unit", "self"
GROUP_LABELS = {DESKS: "部门与值班室", OTHER: "区划不明的责任人"}
ALL_MESSAGES = "all"


@dataclass(frozen=True)
class GroupKey:
    """A group of recipients: the desks, persons of unknown place, a unit's whole subtree (`unit`) or the persons
    of exactly one unit (`self`, its 本级)."""

    kind: str
    code: str | None = None

    @property
    def text(self) -> str:
        """The key as the API writes it: desks, other, unit:<code>, self:<code>."""
        return self.kind if self.code is None else f"{self.kind}:{self.code}"

    @property
    def level(self) -> str | None:
        """The level of the unit the group is about (None for desks and other)."""
        return level_from_code(self.code) if self.code else None


def parse_group(text: str | None, name: str = "group") -> GroupKey | None:
    """The group a query names (None: no group); BadInput naming `name` for anything else."""
    if text is None:
        return None
    if text in (DESKS, OTHER):
        return GroupKey(text)
    kind, _, code = text.partition(":")
    if kind in (UNIT, SELF) and is_valid_code(code):
        return GroupKey(kind, code)
    raise BadInput(f"{name}：应为 desks、other、unit:<12 位区划代码> 或 self:<12 位区划代码>：{text!r}",
                   extra={"field": name})


def phone_digits(query: str) -> str | None:
    """The digits of a search that is a phone number or a part of one ("0008", "139-0000"); None otherwise."""
    text = query
    for separator in _PHONE_SEPARATORS:
        text = text.replace(separator, "")
    return text if text.isascii() and text.isdigit() and len(text) >= MIN_PHONE_DIGITS else None


@dataclass(frozen=True)
class BoardFilter:
    """What the board's filters ask for: a count's rows, persons of a level, one department's desks, a name,
    place or phone number."""

    state: str | None = None
    level: str | None = None
    department: str | None = None
    query: str | None = None

    def check(self) -> BoardFilter:
        """Itself, or BadInput naming the parameter that is not understood."""
        if self.state is not None and self.state not in FILTERS:
            raise BadInput(f"filter：应为 {'、'.join(FILTERS)} 之一", extra={"field": "filter"})
        if self.level is not None and self.level not in LEVEL_FILTERS:
            raise BadInput(f"level：应为 {'、'.join(LEVEL_FILTERS)} 之一", extra={"field": "level"})
        if self.department is not None and len(self.department) > 100:
            raise BadInput("department：部门代号过长", extra={"field": "department"})
        if self.query is not None and len(self.query) > MAX_QUERY_CHARS:
            raise BadInput(f"q：搜索词不能超过 {MAX_QUERY_CHARS} 个字", extra={"field": "q"})
        return self

    @property
    def narrows(self) -> bool:
        """Whether any filter is set."""
        return any((self.state, self.level, self.department, self.query))


def message_step(msg_type: str, all_clear: bool, colour: str | None, previous: str | None) -> tuple[str, str]:
    """What a message did to its thread, as (kind, label): alert 发布, upgrade 升级, downgrade 降级, update 更新,
    cancel 解除."""
    if all_clear or msg_type == "Cancel":
        return "cancel", "解除"
    if msg_type != "Update":
        return "alert", "发布"
    if colour in COLOURS and previous in COLOURS and colour != previous:
        return ("upgrade", "升级") if COLOURS.index(colour) > COLOURS.index(previous) else ("downgrade", "降级")
    return "update", "更新"


def focus_message(messages: list[tuple[int, bool]]) -> int:
    """The message a thread shows first, of (id, all_clear) oldest first: the last that asked for 叫应 (the one in
    force, or the one a 解除 ended, whose overdue and escalated recipients stay to be seen); else the last."""
    asking = [message_id for message_id, all_clear in messages if not all_clear]
    return (asking or [message_id for message_id, _ in messages])[-1]


def parse_scope(text: str | None, message_ids: list[int], focus: int) -> tuple[str, list[int]]:
    """The messages a query covers: `all`, one message id of the thread, or (absent) the focus message; returns
    the scope as written back and the ids. BadInput naming `message` for an id not of the thread."""
    if text is None:
        return str(focus), [focus]
    if text == ALL_MESSAGES:
        return ALL_MESSAGES, list(message_ids)
    if text.isdigit() and int(text) in message_ids:
        return text, [int(text)]
    raise BadInput(f"message：应为 all 或本预警过程中的一条消息编号（{'、'.join(map(str, message_ids))}）：{text!r}",
                   extra={"field": "message"})
