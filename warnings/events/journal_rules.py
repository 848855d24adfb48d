"""Pure rules of the journal: which entries count after corrections, and what they add up to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

# The figures a journal entry may report; None means "not reported", 0 means "reported as none".
JOURNAL_FIGURES = ("evacuated", "shelters_opened", "housed", "roads_closed", "rescues", "deaths", "missing",
                   "injured", "economic_loss")
FIGURE_LABELS = {"evacuated": "转移人数", "shelters_opened": "开放避险点", "housed": "安置人数",
                 "roads_closed": "封闭道路", "rescues": "救援次数", "deaths": "死亡", "missing": "失踪",
                 "injured": "受伤", "economic_loss": "直接经济损失（万元）"}


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
