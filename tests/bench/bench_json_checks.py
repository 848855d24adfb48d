"""JSON body benchmark: what reading a body through api/json_body.decode_json (depth, number and text checks naming
the field) costs beside a bare json.loads, for a large drawn polygon and for the hostile bodies it refuses.

Prints the median of several runs in milliseconds; nothing is asserted.
Run: .venv/bin/python tests/bench/bench_json_checks.py
"""

from __future__ import annotations

import json
import statistics
import time

from fangxun.api.json_body import decode_json
from fangxun.core.errors import BadInput

RUNS = 15


def median_ms(action, runs: int = RUNS) -> float:
    """Median wall time of `action` in milliseconds (one warm-up run)."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def refused(body: str):
    def run() -> None:
        try:
            decode_json(body)
        except BadInput:
            return
        raise AssertionError("accepted")
    return run


def main() -> None:
    ring = [[113 + i * 1e-5, 34 + (i % 7) * 1e-5] for i in range(40_000)]
    polygon = json.dumps({"event": "暴雨", "areas": {"polygon": {"type": "Polygon", "coordinates": [ring]}}})
    form = json.dumps({"event": "暴雨", "colour": "红", "areas": {"unit_codes": ["410102000000"]},
                       "description": "甲区未来3小时降雨量将达100毫米以上。"})
    print(f"{'body':<44}{'bytes':>10}{'json.loads ms':>15}{'decode_json ms':>16}")
    for name, body in (("hand-entry form", form), ("polygon of 40,000 vertices", polygon)):
        print(f"{name:<44}{len(body.encode()):>10}{median_ms(lambda: json.loads(body)):>15.2f}"
              f"{median_ms(lambda: decode_json(body)):>16.2f}")
    hostile = {"nested 50,000 deep": "[" * 50_000 + "]" * 50_000,
               "nested 50,000 deep under a field": '{"areas": ' + "[" * 50_000 + "]" * 50_000 + "}",
               "integer of 5,000 digits": '{"warning_id": ' + "7" * 5_000 + "}",
               "NUL at the end of the polygon": polygon[:-2] + ', "x": "\\u0000"}}'}
    for name, body in hostile.items():
        print(f"{'refused: ' + name:<44}{len(body.encode()):>10}{'':>15}{median_ms(refused(body)):>16.2f}")


if __name__ == "__main__":
    main()
