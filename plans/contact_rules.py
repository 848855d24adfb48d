"""Who a plan's 责任人 are and when one can be reached. Pure: the one statement of the rule; the SQL form
(plans.coverage.reachable_condition) and the routing (warnings.routing.recipients) follow it."""

from __future__ import annotations

import json

# The persons a plan names and warnings reach: the 责任人 and the 副责任人.
PERSON_ROLES = ("responsible", "deputy")
# The entry of a contact's channels holding its 固话 (landline), which a redial calls after the mobile.
LANDLINE_ENTRY = "landline"
# The JSON text of a contact's channels when it holds no entry.
NO_CHANNELS = ("{}", "null")


def has_channels(channels_text: str | None) -> bool:
    """Whether a contact's channels (as stored JSON text) hold any entry."""
    return channels_text is not None and channels_text not in NO_CHANNELS


def reachable(role: str, phone: str | None, channels_text: str | None) -> bool:
    """A 责任人 (or deputy) who can be called or messaged: a phone on record, or any channel entry."""
    return role in PERSON_ROLES and (phone is not None or has_channels(channels_text))


def channels_from_text(channels_text: str | None) -> dict:
    """A contact's channels from their JSON text ({} when there are none, or they are not an object)."""
    channels = json.loads(channels_text) if has_channels(channels_text) else {}
    return channels if isinstance(channels, dict) else {}


def address_on(channels: dict | None, phone: str | None, channel: str, kind: str, phone_carries: bool) -> str:
    """A person's address on one channel: an entry under the channel's name or kind, else the phone when
    the channel's kind can carry a phone number (`phone_carries`); "" when the person has none there."""
    entries = channels or {}
    address = entries.get(channel) or entries.get(kind)
    if not address and phone_carries:
        address = phone
    return str(address or "").strip()


def person_identity(unit_code: str, phone: str | None, name: str) -> tuple[str, str]:
    """Who a contact row is: one person of a unit by phone (separators ignored), else by name. A person named in
    several plans of a unit has a row in each."""
    return unit_code, (phone or "").replace("-", "").replace(" ", "") or name


def normalise_mobile(value: object) -> str | None:
    """A mainland mobile number (11 digits from 13 to 19, a +86 or 86 before it dropped); blank is None; anything
    else raises ValueError in Chinese."""
    text = "".join(ch for ch in str(value or "") if ch.isdigit() or ch == "+")
    if not text:
        return None
    digits = text.removeprefix("+").removeprefix("86") if len(text.lstrip("+")) == 13 else text
    if len(digits) != 11 or not digits.isdigit() or digits[0] != "1" or digits[1] not in "3456789":
        raise ValueError(f"手机号码无效：“{value}”（应为 11 位手机号）")
    return digits
