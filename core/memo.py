"""Results worked out once per dict that many callers share (the payload of a fan-out's rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerDict(Generic[T]):
    """`compute(d)`, remembered per dict object for as long as its items are unchanged (compared
    shallowly); at most `size` dicts are remembered at a time."""

    def __init__(self, compute: Callable[[dict], T], size: int = 4096):
        self._compute = compute
        self._size = size
        self._known: dict[int, tuple[dict, dict, T]] = {}

    def __call__(self, d: dict) -> T:
        known = self._known.get(id(d))
        if known is not None and known[0] is d and known[1] == d:
            return known[2]
        if len(self._known) >= self._size:
            self._known.clear()
        value = self._compute(d)
        self._known[id(d)] = (d, dict(d), value)  # holding `d` keeps its id from being reused meanwhile
        return value
