"""The order a warning's recipients are written and handed to the dispatcher in, as pure rules: department and
duty desks first, then the 责任人 of the warned units from the top level down (city, district, township before
villages), each level by unit code; and the sizes of the chunks they are written in."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import NamedTuple

from fangxun.plans.unit_rules import LEVELS, level_rank
from fangxun.warnings.routing.recipients import Recipient, WarnedUnit

# Recipients who are not a unit's person: told first, whatever their level.
DESK_KINDS = frozenset(("department", "department_leader", "duty_desk", "duty_leader"))
DESK_RANK = 0
# Ranks of persons: 1 + level_rank (province 1 … village 5), an unknown level last.
LAST_RANK = 1 + len(LEVELS)
# The first chunk is small so its commit and handoff are quick (the desks' calls start at once); later ones
# are larger, fewer transactions for the villages.
FIRST_CHUNK = 100
SECOND_CHUNK = 1000
LATER_CHUNK = 4000
# Units of one level whose persons are read and routed together.
UNITS_PER_SEGMENT = 500


class OrderKey(NamedTuple):
    """Where a recipient stands in the expansion: urgency rank, unit code, recipient key, channel."""

    rank: int
    unit_code: str
    key: str
    channel: str


def urgency_rank(kind: str, level: str | None) -> int:
    """0 for a desk; for a person 1 + the rank of their unit's level (the city's before the village's)."""
    if kind in DESK_KINDS:
        return DESK_RANK
    return 1 + level_rank(level)


def order_key(recipient: Recipient) -> OrderKey:
    """The recipient's place in the expansion order (deterministic: ties are broken by key and channel)."""
    rank = urgency_rank(recipient.kind, recipient.level)
    return OrderKey(rank, recipient.unit_code or "" if rank else "", recipient.key, recipient.channel)


def chunk_size(index: int) -> int:
    """How many rows the `index`th chunk (from 0) of an expansion writes in one transaction."""
    return FIRST_CHUNK if index == 0 else SECOND_CHUNK if index == 1 else LATER_CHUNK


class Segment(NamedTuple):
    """Recipients computed together: the desks (rank 0), or the persons of some units of one level."""

    start: tuple[int, str]  # (rank, unit code) of the first key it may hold
    rank: int
    units: tuple[WarnedUnit, ...]


def segments(units: Sequence[WarnedUnit], person_levels: frozenset[str] | set[str],
             per_segment: int = UNITS_PER_SEGMENT) -> list[Segment]:
    """Every rank's segments in order: each rank begins with one starting at (rank, "") (so a recipient of any
    unit of that rank falls into some segment); the persons' units of a routed level are split `per_segment`."""
    by_rank: dict[int, list[WarnedUnit]] = {}
    for unit in units:
        if unit.level in person_levels:
            by_rank.setdefault(urgency_rank("person", unit.level), []).append(unit)
    found = []
    for rank in range(DESK_RANK, LAST_RANK + 1):
        members = sorted(by_rank.get(rank, ()), key=lambda unit: unit.code)
        if not members:
            found.append(Segment((rank, ""), rank, ()))
            continue
        for start in range(0, len(members), per_segment):
            part = tuple(members[start:start + per_segment])
            found.append(Segment((rank, "" if start == 0 else part[0].code), rank, part))
    return found


def segment_of(starts: Sequence[tuple[int, str]], key: OrderKey) -> int:
    """The index of the segment holding `key`, given the segments' starts in order."""
    return max(0, bisect_right(starts, (key.rank, key.unit_code)) - 1)


def units_reached(all_segments: Sequence[Segment], cursor: OrderKey | None) -> int:
    """How many units' persons are written up to `cursor` (units up to the cursor's own)."""
    if cursor is None:
        return 0
    reached = 0
    for segment in all_segments:
        if segment.rank < cursor.rank:
            reached += len(segment.units)
        elif segment.rank == cursor.rank:
            reached += bisect_right([unit.code for unit in segment.units], cursor.unit_code)
    return reached


def written_before(segment_end: tuple[int, str] | None, cursor: OrderKey | None) -> bool:
    """Whether every key of a segment ending before `segment_end` (the next one's start; None: the last) is at
    or before `cursor`, the last key written: such a segment is not computed again on resume."""
    return cursor is not None and segment_end is not None and segment_end <= (cursor.rank, cursor.unit_code)


class Deduper:
    """Each (who, channel) once across the chunks of an expansion, and one address on a channel once unless it
    stands in for an absent person there (as recipients_for does within one list)."""

    def __init__(self, slots: set | None = None, addresses: set | None = None):
        self.slots = set(slots or ())
        self.addresses = set(addresses or ())

    def routed(self, recipients: Sequence[Recipient]) -> list[Recipient]:
        """The routed recipients not yet seen (by slot or address), in order."""
        kept = []
        for recipient in recipients:
            address = (recipient.channel, recipient.address) if recipient.address else None
            if recipient.slot in self.slots or (address and address in self.addresses and not recipient.stand_in):
                continue
            self.slots.add(recipient.slot)
            if address:
                self.addresses.add(address)
            kept.append(recipient)
        return kept

    def told_before(self, recipients: Sequence[Recipient]) -> list[Recipient]:
        """Recipients of earlier warnings not yet seen by slot (they are told again at their address)."""
        kept = []
        for recipient in recipients:
            if recipient.slot not in self.slots:
                self.slots.add(recipient.slot)
                kept.append(recipient)
        return kept
