"""The pump's state: per claim slot (a channel) rows waiting to begin, rows begun and waiting for a sender,
and a fixed set of sender tasks (as many as the channel may have in flight: a task per row would cost more
than the send); outcomes not yet written back.

A row goes out only once it is marked begun in the database (outbox.begin_attempts), and at most
`MAX_BEGUN_PER_SENDER` × senders rows of a slot are begun and not yet sent. Should the process die, those and
the sends whose outcome was not yet written can go out a second time, and each of them is on record as an
interrupted attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping

from fangxun.warnings.delivery.outbox import Claimed, Outcome

# Begun rows allowed per sender: one in flight and one ready behind it (the next batch is marked begun
# while the current one is sent) ...
BEGUN_PER_SENDER = 2
# ... doubled, up to this many, after an exchange during which the slot's senders used up what was begun
# and waited for marks while rows were queued (a fast channel on a busy event loop sends faster than an
# exchange comes back); back to the least once its queue is empty. A slow channel keeps the least.
MAX_BEGUN_PER_SENDER = 8


class ByPriority:
    """Rows waiting to begin, most urgent first (Claimed.priority) and in arrival order within a priority: a first
    notice handed over while a wave of reminders is queued goes ahead of it. (The deque operations the pump uses.)"""

    def __init__(self):
        self._queues: dict[int, deque[Claimed]] = {}
        self._size = 0

    def append(self, row: Claimed) -> None:
        self._queue(row.priority).append(row)
        self._size += 1

    def extendleft(self, rows) -> None:
        """As deque.extendleft: each row in turn to the front (of its priority)."""
        for row in rows:
            self._queue(row.priority).appendleft(row)
            self._size += 1

    def popleft(self) -> Claimed:
        for priority in sorted(self._queues):
            if self._queues[priority]:
                self._size -= 1
                return self._queues[priority].popleft()
        raise IndexError("pop from an empty queue")

    def clear(self) -> None:
        self._queues.clear()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (row for priority in sorted(self._queues) for row in self._queues[priority])

    def _queue(self, priority: int) -> deque[Claimed]:
        queue = self._queues.get(priority)
        if queue is None:
            queue = self._queues[priority] = deque()
        return queue


class Pipeline:
    """Queues and senders of one run of the pump."""

    def __init__(self, send: Callable[[Claimed], Awaitable[Outcome]], senders: Mapping[object, int]):
        self._send = send
        self._senders = senders
        self.queued: dict[object, ByPriority] = {}  # claimed or handed over, not begun
        self.ready: dict[object, deque[Claimed]] = {}  # begun, waiting for a sender
        self.in_flight: dict[object, int] = {}
        self._ready_event: dict[object, asyncio.Event] = {}
        self._tasks: list[asyncio.Task] = []
        self.wake = asyncio.Event()  # an outcome came in, or the exchange finished
        self.exchange: asyncio.Task | None = None  # the one exchange with the database under way
        self.buffered: list[Outcome] = []
        self.held: set[int] = set()  # queued, begun or sending under our lease, and not yet written back
        self.unsent_begun: list[int] = []  # marked begun, never sent: the run stopped first
        self.stopping = False
        self.dry_until: dict[object, float] = {}
        self._budget: dict[object, int] = {}  # rows of a slot that may be begun and not yet sent
        self._starved: set[object] = set()  # slots whose senders waited for marks since the exchange began
        self._finished: dict[object, int] = {}  # sends finished, per slot
        self._finished_before: dict[object, int] = {}  # ... when the exchange under way began
        self.handled = 0
        self.last_flush = self.last_renewal = time.monotonic()

    def enqueue(self, row: Claimed, slot: object) -> None:
        """Queue a row to begin; one already held (handed over, then claimed again) is not queued twice."""
        if row.id in self.held or self.stopping:
            return
        self._open(slot)
        self.queued[slot].append(row)
        self.held.add(row.id)
        self.handled += 1

    def busy(self, slot: object) -> int:
        """Rows of `slot` queued, begun or being sent."""
        return len(self.queued.get(slot, ())) + len(self.ready.get(slot, ())) + self.in_flight.get(slot, 0)

    def active(self) -> bool:
        return any(self.queued.values()) or any(self.ready.values()) or any(self.in_flight.values())

    def sending(self) -> bool:
        return any(self.in_flight.values())

    def take_to_begin(self) -> dict[object, list[Claimed]]:
        """Rows to mark begun in the next exchange, per slot: as many as its budget allows once the outcomes
        buffered now are written in the same transaction, taken when a slot's senders run short."""
        taken = {}
        self._finished_before = dict(self._finished)
        self._starved.clear()
        for slot, queue in self.queued.items():
            ready = self.ready[slot]
            room = self.begun_budget(slot) - len(ready) - self.in_flight[slot]
            if queue and room >= (1 if not ready else max(1, self._senders[slot] // 2)):
                taken[slot] = [queue.popleft() for _ in range(min(room, len(queue)))]
        return taken

    def begun_budget(self, slot: object) -> int:
        """Rows of `slot` that may be begun and not yet sent (ready or in flight)."""
        return self._budget.get(slot, BEGUN_PER_SENDER * self._senders[slot])

    def begun(self, taken: dict[object, list[Claimed]], marked: set[int]) -> None:
        """Hand the rows marked begun to the senders; the others are no longer ours (given back meanwhile).
        (The end of an exchange: a slot whose senders sent what was begun and then waited for marks meanwhile may
        have more begun.)"""
        for slot in self.queued:
            senders, budget = self._senders[slot], self.begun_budget(slot)
            sent = self._finished[slot] - self._finished_before.get(slot, 0)
            if slot in self._starved and sent >= budget - senders:
                self._budget[slot] = min(MAX_BEGUN_PER_SENDER * senders, 2 * budget)
            elif not self.queued[slot]:
                self._budget[slot] = BEGUN_PER_SENDER * senders
        for slot, rows in taken.items():
            for row in rows:
                if self.stopping and row.id in marked:
                    self.unsent_begun.append(row.id)
                    self.held.discard(row.id)
                elif row.id in marked:
                    self.ready[slot].append(row)
                else:
                    self.held.discard(row.id)
            if self.ready[slot]:
                self._ready_event[slot].set()

    def put_back(self, taken: dict[object, list[Claimed]]) -> None:
        """Rows taken to begin in an exchange that failed: back to the front of their queues, in order."""
        for slot, rows in taken.items():
            self.queued[slot].extendleft(reversed(rows))

    def written(self, count: int) -> None:
        """The first `count` buffered outcomes are on record."""
        self.held.difference_update(outcome.id for outcome in self.buffered[:count])
        del self.buffered[:count]

    def drop_unsent(self) -> None:
        """Stop sending: forget every row not yet with a sender (those marked begun kept in `unsent_begun`)."""
        self.stopping = True
        for slot in self.queued:
            self.unsent_begun += [row.id for row in self.ready[slot]]
            self.held.difference_update(row.id for row in self.queued[slot])
            self.queued[slot].clear()
            self.ready[slot].clear()
        self.held.difference_update(self.unsent_begun)

    async def close(self) -> None:
        """Cut off the senders and the exchange still running, and wait until they have let go."""
        tasks = self._tasks + ([self.exchange] if self.exchange else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _open(self, slot: object) -> None:
        if slot not in self.queued:
            self.queued[slot], self.ready[slot], self.in_flight[slot], self._finished[slot] = ByPriority(), deque(), 0, 0
            self._ready_event[slot] = asyncio.Event()
            self._tasks += [asyncio.create_task(self._sender(slot)) for _ in range(self._senders[slot])]

    async def _sender(self, slot: object) -> None:
        ready, event = self.ready[slot], self._ready_event[slot]
        while True:
            if not ready:
                if self.queued[slot]:
                    self._starved.add(slot)
                event.clear()
                await event.wait()
                continue
            row = ready.popleft()
            self.in_flight[slot] += 1
            try:
                outcome = await self._send(row)  # never raises but for cancellation
            finally:
                self.in_flight[slot] -= 1
            self._finished[slot] += 1
            self.buffered.append(outcome)
            self.wake.set()
