"""Message templates: the context every template sees, rendering, and the national defence guidance."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from fangxun.warnings.config import PLACEHOLDERS, Template
from fangxun.warnings.routing.wording import ALERT, ALL_CLEAR, CHANGE_VERBS, summary
from fangxun.warnings.vocabulary import COLOUR_LABELS

GUIDANCE_FILE = "data/rainstorm_signal_national_standard.json"
GUIDANCE_EVENT = "暴雨"
DISPLAY_ZONE = "Asia/Shanghai"

# The numbering the packaged guidance is quoted with (1.  1、  1．  （一）  (1)) and its half-width
# punctuation, replaced by one style: "1. " and full-width Chinese punctuation.
_NUMBERING = re.compile(r"^\s*(?:\d+\s*[.、．]|[（(]\s*(?:\d+|[一二三四五六七八九十]+)\s*[）)]|[一二三四五六七八九十]+、)\s*")
_FULL_WIDTH = str.maketrans({";": "；", ",": "，", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？"})
_LINE_END = "；;。.，,、 \t"


def normalised_guidance(lines: Iterable[str]) -> tuple[str, ...]:
    """Guidance lines in one style: "1. …；" numbered in order, full-width punctuation, the last ending "。"."""
    items = [_NUMBERING.sub("", line).translate(_FULL_WIDTH).strip().rstrip(_LINE_END) for line in lines]
    items = [item for item in items if item]
    return tuple(f"{number}. {item}{'。' if number == len(items) else '；'}"
                 for number, item in enumerate(items, 1))


@cache
def _rainstorm_guidance() -> dict[str, tuple[str, ...]]:
    text = resources.files("fangxun.warnings").joinpath(GUIDANCE_FILE).read_text("utf-8")
    return {signal["level"]: normalised_guidance(signal["guidance"]) for signal in json.loads(text)["signals"]}


def guidance(event: str, colour: str | None) -> list[str]:
    """The national defence guidance lines of a signal (暴雨 only for now; others empty)."""
    if event != GUIDANCE_EVENT or colour is None:
        return []
    return list(_rainstorm_guidance().get(colour, ()))


def defence_guidance(event: str, colour: str | None, instruction: str, kind: str = ALERT) -> str:
    """What a message gives as defence guidance, once: the issuer's instruction; only when it has none, the
    national guidance of the signal (never for an all-clear)."""
    if instruction.strip():
        return instruction.strip()
    return "" if kind == ALL_CLEAR else "\n".join(guidance(event, colour))


def display_time(moment: datetime | None, zone: str = DISPLAY_ZONE) -> str:
    """An aware time as shown to people: 2026-07-20 08:00 in Asia/Shanghai; None: empty."""
    if moment is None:
        return ""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime")
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def message_context(*, event: str, colour: str | None, headline: str = "", description: str = "",
                    instruction: str = "", areas: Iterable[str] = (), onset: datetime | None = None,
                    expires: datetime | None = None, ack_url: str = "", recipient: str = "",
                    zone: str = DISPLAY_ZONE, kind: str = ALERT, previous_colour: str | None = None,
                    sender_name: str = "", duty: str = "", expires_caveat: str = "") -> dict[str, str]:
    """Every placeholder's text for one message of `kind` (wording.KINDS); `areas` are Chinese unit names
    given by the caller, `previous_colour` that of the warning an Update changes, `expires_caveat` what follows
    an expiry the issuer did not name."""
    return {
        "event": event,
        "colour_label": COLOUR_LABELS.get(colour or "", ""),
        "headline": headline,
        "description": description,
        "instruction": instruction,
        "guidance": defence_guidance(event, colour, instruction, kind),
        "areas": "、".join(areas),
        "onset": display_time(onset, zone),
        "expires": display_time(expires, zone) + (f"（{expires_caveat}）" if expires and expires_caveat else ""),
        "ack_url": ack_url,
        "recipient": recipient,
        "sender_name": sender_name,
        "previous_colour_label": COLOUR_LABELS.get(previous_colour or "", ""),
        "change": CHANGE_VERBS[kind],
        "summary": summary(kind, event, colour, previous_colour, sender_name),
        "duty": duty,
    }


def _fields(line: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(line) if field is not None]


def _render_text(text: str, values: Mapping[str, str]) -> str:
    """`text` filled in; a line whose placeholders are all empty is left out, and so is a heading (a line of
    its own ending in "：") when what it heads was left out."""
    kept: list[str] = []
    heading: str | None = None
    for line in text.split("\n"):
        fields = _fields(line)
        if fields and not any(values[field] for field in fields):
            heading = None  # the heading's content is gone: the heading goes with it
            continue
        if heading is not None:
            kept.append(heading)
            heading = None
        filled = line.format_map(values)
        if not fields and filled.rstrip().endswith("："):
            heading = filled
            continue
        kept.append(filled)
    if heading is not None:
        kept.append(heading)
    return "\n".join(kept)


def render(template: Template, context: Mapping[str, str]) -> tuple[str, str]:
    """(title, text) of `template`; placeholders missing from `context` become empty, and lines made only of
    empty placeholders are left out (see _render_text)."""
    unknown = set(context) - set(PLACEHOLDERS)
    if unknown:
        raise KeyError(f"unknown placeholders {sorted(unknown)}")
    values = {name: str(context.get(name, "")) for name in PLACEHOLDERS}
    return template.title.format_map(values).strip(), _render_text(template.text, values).strip()
