"""The normalised warning every intake path produces (CAP, GB/T 35965.1, the manual form)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
SCOPES = ("Public", "Restricted", "Private")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")
COLOUR_SEVERITY = {"red": "Extreme", "orange": "Severe", "yellow": "Moderate", "blue": "Minor"}
SEVERITY_COLOUR = {severity: colour for colour, severity in COLOUR_SEVERITY.items()}

_COLOUR_CHARS = {"红": "red", "橙": "orange", "黄": "yellow", "蓝": "blue"}
# "暴雨红色预警信号", "红色暴雨预警", "雷电黄色预警[Ⅲ级/较重]": a colour word before 预警.
_COLOUR_IN_TEXT = re.compile(r"([红橙黄蓝])色[^。；;，,\n]{0,12}?预警")
# 郑州市气象台解除暴雨红色预警信号: a message that lifts a signal says so in its headline or event.
_LIFTED = re.compile(r"解除")
_EVENT_NOISE = re.compile(r"[红橙黄蓝]色|预警信号|预警|信号|\[[^\]]*\]|【[^】]*】|（[^）]*）|\([^)]*\)")


def colour_from_text(text: str) -> str | None:
    """The colour named in Chinese warning text such as 暴雨红色预警信号, else None.

    The last one wins: 将暴雨橙色预警信号升级为红色预警信号 is red.
    """
    found = _COLOUR_IN_TEXT.findall(text or "")
    return _COLOUR_CHARS[found[-1]] if found else None


def chinese_event(text: str) -> str:
    """The bare event of a Chinese signal name: 暴雨红色预警信号 -> 暴雨; other text unchanged."""
    text = (text or "").strip()
    if not re.search(r"[\u4e00-\u9fff]", text):
        return text
    bare = _EVENT_NOISE.sub("", text).strip()
    return bare or text


def utc(moment: datetime) -> datetime:
    """An aware datetime in UTC (refuses naive ones: their zone would be a guess)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime")
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass(frozen=True)
class Reference:
    """An earlier message this one refers to (CAP <references>: sender,identifier,sent)."""

    sender: str
    identifier: str
    sent: datetime

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The idempotency key of the referenced message, comparable with NormalisedWarning.key."""
        return (self.identifier, self.sender, self.sent)

    def as_json(self) -> dict:
        """Plain JSON."""
        return {"sender": self.sender, "identifier": self.identifier, "sent": _iso(self.sent)}


@dataclass(frozen=True)
class WarningArea:
    """One warned area: polygons as (lon, lat) rings, circles as (lon, lat, radius_km), geocodes."""

    description: str
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[tuple[float, float, float], ...] = ()
    geocodes: tuple[str, ...] = ()

    def as_json(self) -> dict:
        """Plain JSON: rings as [[lon, lat], …], circles as {lon, lat, radius_km}."""
        return {
            "description": self.description,
            "polygons": [[[lon, lat] for lon, lat in ring] for ring in self.polygons],
            "circles": [{"lon": lon, "lat": lat, "radius_km": r} for lon, lat, r in self.circles],
            "geocodes": list(self.geocodes),
        }

    @classmethod
    def from_json(cls, data: dict) -> WarningArea:
        """The inverse of as_json."""
        return cls(
            description=data["description"],
            polygons=tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in data["polygons"]),
            circles=tuple((float(c["lon"]), float(c["lat"]), float(c["radius_km"])) for c in data["circles"]),
            geocodes=tuple(data["geocodes"]),
        )


@dataclass(frozen=True)
class NormalisedWarning:
    """A warning message in the shape the lifecycle, routing and dispatch work on."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[Reference, ...]
    event: str
    colour: str | None
    severity: str
    urgency: str
    certainty: str
    onset: datetime | None
    expires: datetime | None
    headline: str
    description: str
    instruction: str
    sender_name: str
    language: str
    areas: tuple[WarningArea, ...]
    skipped: tuple[str, ...] = field(default=())
    # CAP <effective>: the start when <onset> is absent (Chinese meteorological CAP carries only it).
    effective: datetime | None = None
    # Every <responseType> of the chosen info block (AllClear marks an all-clear).
    response_types: tuple[str, ...] = ()
    # True when <expires> was absent and the configured lifetime was assumed.
    expires_assumed: bool = False
    # What the service noted while reading the document and keeps on the warning (a shape that could
    # not be read, an assumed expiry …), in Chinese.
    notes: tuple[str, ...] = ()

    @property
    def start(self) -> datetime | None:
        """When the warning takes effect: <onset>, else <effective>."""
        return self.onset or self.effective

    @property
    def all_clear(self) -> bool:
        """A Cancel, a responseType AllClear, or a message whose headline or event lifts the signal (解除)."""
        return (self.msg_type == "Cancel" or "AllClear" in self.response_types
                or bool(_LIFTED.search(self.headline or "")) or bool(_LIFTED.search(self.event or "")))

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The idempotency key: the same identifier, sender and sent twice is the same message."""
        return (self.identifier, self.sender, self.sent)

    @property
    def geocodes(self) -> tuple[str, ...]:
        """Every geocode of every area, in order, without repeats."""
        return tuple(dict.fromkeys(code for area in self.areas for code in area.geocodes))

    def as_json(self) -> dict:
        """The --dry-run --json shape (ISO datetimes), plus status, scope, sender_name, language, skipped."""
        return {
            "identifier": self.identifier,
            "sender": self.sender,
            "sent": _iso(self.sent),
            "msg_type": self.msg_type,
            "references": [ref.as_json() for ref in self.references],
            "event": self.event,
            "colour": self.colour,
            "severity": self.severity,
            "urgency": self.urgency,
            "certainty": self.certainty,
            "onset": _iso(self.onset),
            "expires": _iso(self.expires),
            "headline": self.headline,
            "description": self.description,
            "instruction": self.instruction,
            "areas": [area.as_json() for area in self.areas],
            "status": self.status,
            "scope": self.scope,
            "sender_name": self.sender_name,
            "language": self.language,
            "skipped": list(self.skipped),
            "effective": _iso(self.effective),
            "response_types": list(self.response_types),
            "expires_assumed": self.expires_assumed,
            "notes": list(self.notes),
            "all_clear": self.all_clear,
        }

    @classmethod
    def from_json(cls, data: dict) -> NormalisedWarning:
        """The inverse of as_json (for stored copies)."""

        def when(value):
            return None if value is None else utc(datetime.fromisoformat(value))

        return cls(
            identifier=data["identifier"],
            sender=data["sender"],
            sent=when(data["sent"]),
            status=data.get("status", "Actual"),
            msg_type=data["msg_type"],
            scope=data.get("scope", "Public"),
            references=tuple(Reference(r["sender"], r["identifier"], when(r["sent"])) for r in data["references"]),
            event=data["event"],
            colour=data["colour"],
            severity=data["severity"],
            urgency=data["urgency"],
            certainty=data["certainty"],
            onset=when(data["onset"]),
            expires=when(data["expires"]),
            headline=data["headline"],
            description=data["description"],
            instruction=data["instruction"],
            sender_name=data.get("sender_name", ""),
            language=data.get("language", ""),
            areas=tuple(WarningArea.from_json(a) for a in data["areas"]),
            skipped=tuple(data.get("skipped", ())),
            effective=when(data.get("effective")),
            response_types=tuple(data.get("response_types", ())),
            expires_assumed=bool(data.get("expires_assumed", False)),
            notes=tuple(data.get("notes", ())),
        )
