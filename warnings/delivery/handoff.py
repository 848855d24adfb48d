"""The handoff queue: rows the intake of this process wrote leased to its dispatcher, not yet started.

They need no claim query: per claim slot (a channel) a queue per priority, red first; the pump takes
them ahead of any claim, and an Update or Cancel takes back those that have not gone yet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from itertools import groupby
from operator import attrgetter

from fangxun.warnings.delivery.outbox import Claimed


class HandoffQueue:
    """Handed rows per claim slot (`slot_of` a channel name) and priority."""

    def __init__(self, slot_of: Callable[[str], object]):
        self._slot_of = slot_of
        self._slots: dict[object, dict[int, deque[Claimed]]] = {}

    def put(self, rows: Iterable[Claimed]) -> None:
        """Queue rows behind those of their channel and priority."""
        for (channel, priority), run in groupby(rows, key=attrgetter("channel", "priority")):
            self._queue(channel, priority).extend(run)

    def put_back(self, rows: list[Claimed]) -> None:
        """Return rows taken and not started to the front of their queues, in their order."""
        for row in reversed(rows):
            self._queue(row.channel, row.priority).appendleft(row)

    def withdraw(self, warning_ids: set[int]) -> list[int]:
        """Take out the rows of `warning_ids`; their ids."""
        withdrawn = []
        for queues in self._slots.values():
            for priority, queue in queues.items():
                withdrawn += [row.id for row in queue if row.warning_id in warning_ids]
                queues[priority] = deque(row for row in queue if row.warning_id not in warning_ids)
        return withdrawn

    def take(self, slot: object, room: int) -> list[Claimed]:
        """Up to `room` rows of `slot`, highest priority first."""
        taken: list[Claimed] = []
        for _, queue in sorted(self._slots.get(slot, {}).items()):
            while queue and len(taken) < room:
                taken.append(queue.popleft())
        return taken

    def hand_out(self, room_of: Callable[[object], int], sendable: Callable[[int], bool],
                 send: Callable[[Claimed, object], None]) -> None:
        """`send(row, slot)` the rows at the front of each slot, while the slot has room (`room_of`, asked
        once a slot) and the row's warning is `sendable`; a row that is not stops its slot (the rows of
        lower priority wait behind it)."""
        for slot, queues in self._slots.items():
            room = room_of(slot)
            for _, queue in sorted(queues.items()):
                while queue and room > 0 and sendable(queue[0].warning_id):
                    send(queue.popleft(), slot)
                    room -= 1
                if queue:
                    break

    def clear(self) -> None:
        """Forget every waiting row (the dispatcher stops: they are given back in the database)."""
        self._slots.clear()

    def pending(self, slot: object = None) -> bool:
        """Whether any row waits (in `slot`, when given)."""
        slots = self._slots.values() if slot is None else [self._slots.get(slot, {})]
        return any(queue for queues in slots for queue in queues.values())

    def ids(self) -> set[int]:
        """Ids of the rows waiting (their leases are kept alive too)."""
        return {row.id for queues in self._slots.values() for queue in queues.values() for row in queue}

    def _queue(self, channel: str, priority: int) -> deque[Claimed]:
        return self._slots.setdefault(self._slot_of(channel), {}).setdefault(priority, deque())
