"""Pure rules of the journal: which entries count after corrections, and what they add up to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from fangxun.warnings.events.tables import JOURNAL_FIGURES


class EntryLike(Protocol):
    id: int
    corrects_id: int | None


def effective(entries: Iterable[EntryLike]) -> list:
    """The entries that stand: an entry some other entry corrects is replaced by that correction."""
    entries = list(entries)
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id is not None}
    return [entry for entry in entries if entry.id not in corrected]


def figure_totals(entries: Iterable[EntryLike]) -> dict[str, float | int | None]:
    """Each figure summed over the standing entries; None where no standing entry reported it."""
    totals: dict[str, float | int | None] = dict.fromkeys(JOURNAL_FIGURES)
    for entry in effective(entries):
        for name in JOURNAL_FIGURES:
            value = getattr(entry, name)
            if value is not None:
                totals[name] = (totals[name] or 0) + value
    return totals
