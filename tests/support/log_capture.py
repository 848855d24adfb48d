"""The service's logging (core/logs.py) captured in a string for a test, then taken down again."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fangxun.core.logs import setup_logging


class CapturedLog:
    """What was logged, as text and (in the JSON format) as parsed lines."""

    def __init__(self, stream: io.StringIO):
        self.stream = stream

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        """Every line parsed as JSON (a line that is not JSON fails the test here)."""
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]


@contextmanager
def captured_log(chosen: str = "json") -> Iterator[CapturedLog]:
    """setup_logging(`chosen`) into a string while the block runs; the root logger as it was afterwards."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    setup_logging(chosen, stream=stream, level="INFO")
    try:
        yield CapturedLog(stream)
    finally:
        for handler in [h for h in root.handlers if h.get_name() == "fangxun"]:
            root.removeHandler(handler)
        root.setLevel(level)
