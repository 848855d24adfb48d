"""Process-wide settings of a long-running fangxun service (`serve`, `dispatch`)."""

from __future__ import annotations

import gc

# A red warning over the whole city allocates millions of short-lived objects (rows, messages,
# requests) within seconds. With the default thresholds the collector keeps re-walking everything the
# process holds for good (modules, settings, the area index), which costs a fan-out about a quarter
# of its time; a larger first generation lets the burst die young instead.
FIRST_GENERATION = 50_000


def tune_for_service() -> None:
    """Freeze what start-up allocated (never traversed again) and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION, second, third)
