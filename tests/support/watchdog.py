"""A guard against hanging, not a speed check: a call must return within a generous bound (speed lives in tests/bench)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")
# Generous on purpose: CI runs on a loaded 2-core machine, where a 1 s step has taken 2.1 s.
HANG_SECONDS = 20.0


def returns_in_time(call: Callable[[], T], seconds: float = HANG_SECONDS) -> T:
    """call()'s result or exception; the test fails if it is still running after `seconds` (it hangs)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="watchdog", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds:g} s: it hangs", pytrace=False)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
