"""Hostile-input benchmark: how long the CAP parser takes to refuse each hostile document.

The tests only guard against hanging (a watchdog of several seconds); this prints the figures, the
median of several runs per document, strict and lenient. Nothing is asserted.
Run: .venv/bin/python tests/bench/bench_hostile_input.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.cap_samples import BILLION_LAUGHS, PLAIN_DTD, QUADRATIC_BLOWUP, alert, zhengzhou_rainstorm  # noqa: E402

from fangxun.warnings.intake.cap_parse import CapRejected, parse_cap, read_cap_file  # noqa: E402

RUNS = 5


def median_ms(action, runs: int = RUNS) -> float:
    """Median wall time of `action` in milliseconds (one warm-up run)."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def refusing(data: bytes, lenient: bool):
    """A call that parses `data` and swallows the refusal (the time is what is measured)."""
    def run() -> None:
        try:
            parse_cap(data, lenient=lenient)
        except CapRejected:
            pass
    return run


def documents() -> dict[str, bytes]:
    """The hostile documents of tests/test_cap_hostile.py, by name."""
    return {
        "billion laughs": BILLION_LAUGHS,
        "quadratic blow-up": QUADRATIC_BLOWUP,
        "plain DTD": PLAIN_DTD,
        "50 MB of '<'": b"<" * 50_000_000,
        "200,000 nested elements": b"<a>" * 200_000 + b"</a>" * 200_000,
        "100,000 nested in <info>": alert("<info>" + "<x>" * 100_000 + "</x>" * 100_000 + "</info>"),
        "900 kB attribute": zhengzhou_rainstorm().replace(b"<identifier>",
                                                          b'<identifier a="' + b"x" * 900_000 + b'">'),
    }


def main() -> None:
    print(f"{'document':<28}{'strict ms':>12}{'lenient ms':>12}")
    for name, data in documents().items():
        strict, lenient = (median_ms(refusing(data, mode)) for mode in (False, True))
        print(f"{name:<28}{strict:>12.1f}{lenient:>12.1f}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "huge.xml"
        with path.open("wb") as handle:
            handle.truncate(50_000_000)

        def read() -> None:
            try:
                read_cap_file(path)
            except CapRejected:
                pass
        print(f"{'50 MB file (not read)':<28}{median_ms(read):>12.2f}")


if __name__ == "__main__":
    main()
