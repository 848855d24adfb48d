"""Message templates: the context every template sees, rendering, and the national defence guidance."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

from fangxun.warnings.config import PLACEHOLDERS, Template
from fangxun.warnings.vocabulary import COLOUR_LABELS

GUIDANCE_FILE = "data/rainstorm_signal_national_standard.json"
GUIDANCE_EVENT = "暴雨"
DISPLAY_ZONE = "Asia/Shanghai"


@cache
def _rainstorm_guidance() -> dict[str, tuple[str, ...]]:
    text = resources.files("fangxun.warnings").joinpath(GUIDANCE_FILE).read_text("utf-8")
    return {signal["level"]: tuple(signal["guidance"]) for signal in json.loads(text)["signals"]}


def guidance(event: str, colour: str | None) -> list[str]:
    """The national defence guidance lines of a signal (暴雨 only for now; others empty)."""
    if event != GUIDANCE_EVENT or colour is None:
        return []
    return list(_rainstorm_guidance().get(colour, ()))


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
                    zone: str = DISPLAY_ZONE) -> dict[str, str]:
    """Every placeholder's text for one message; `areas` are Chinese unit names given by the caller."""
    return {
        "event": event,
        "colour_label": COLOUR_LABELS.get(colour or "", ""),
        "headline": headline,
        "description": description,
        "instruction": instruction,
        "guidance": "\n".join(guidance(event, colour)),
        "areas": "、".join(areas),
        "onset": display_time(onset, zone),
        "expires": display_time(expires, zone),
        "ack_url": ack_url,
        "recipient": recipient,
    }


def render(template: Template, context: Mapping[str, str]) -> tuple[str, str]:
    """(title, text) of `template`; placeholders missing from `context` become empty."""
    unknown = set(context) - set(PLACEHOLDERS)
    if unknown:
        raise KeyError(f"unknown placeholders {sorted(unknown)}")
    values = {name: str(context.get(name, "")) for name in PLACEHOLDERS}
    return template.title.format_map(values).strip(), template.text.format_map(values).strip()
