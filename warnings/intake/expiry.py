"""The expiry assumed for a warning that names none: the configured lifetime from its start, said in a note."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fangxun.warnings.config import Lifetime
from fangxun.warnings.intake.normalised import NormalisedWarning


def assumed_expiry_note(hours: int) -> str:
    """The note a warning carries when its expiry was assumed."""
    return f"未注明失效时间，按 {hours} 小时计"


def expiry_caveat(warning: NormalisedWarning) -> str:
    """What a message adds after an assumed expiry ("未注明失效时间，按 24 小时计"); empty when the issuer named it."""
    if not warning.expires_assumed or warning.expires is None:
        return ""
    hours = round((warning.expires - (warning.start or warning.sent)).total_seconds() / 3600)
    return assumed_expiry_note(hours)


def assume_expiry(warning: NormalisedWarning, lifetime: Lifetime) -> NormalisedWarning:
    """The warning with expires = start (else sent) + the configured hours, expires_assumed and a note.

    A warning that names its expiry, or an all-clear (it ends something, nothing of it stays in force),
    is returned unchanged.
    """
    if warning.expires is not None or warning.all_clear:
        return warning
    hours = lifetime.hours(warning.event, warning.colour)
    try:
        expires = (warning.start or warning.sent) + timedelta(hours=hours)
    except OverflowError:  # a start at the end of year 9999: nothing sensible to assume
        return warning
    return replace(warning, expires=expires, expires_assumed=True,
                   notes=warning.notes + (assumed_expiry_note(hours),))
