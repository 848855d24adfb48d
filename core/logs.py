"""The logging of the long-running commands (`serve`, `dispatch`): human-readable lines or JSON lines on stderr,
each with what it is about (core/log_context.py), every credential masked (core/redact.py)."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from typing import TextIO
from urllib.parse import urlsplit

from fangxun.core.log_context import FIELDS, current
from fangxun.core.redact import redact, register_secret

FORMATS = ("text", "json")
# Fields an access line (api/access_log.py) adds, in the order the JSON shows them.
ACCESS_FIELDS = ("remote", "method", "path", "status", "bytes", "duration_ms")
# Libraries whose INFO lines say nothing an operator needs (APScheduler: "Running job …" every 30 s).
QUIET_LOGGERS = {"apscheduler": logging.WARNING,
                 # Alembic names each plugin it sets up at INFO when first imported (now at the first upgrade check).
                 "alembic.runtime.plugins": logging.WARNING}
LEVEL_VARIABLE = "FANGXUN_LOG_LEVEL"
FORMAT_VARIABLE = "FANGXUN_LOG_FORMAT"


class ContextFilter(logging.Filter):
    """Copies the fields of the log context in force onto each record (unless the call gave them itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current()
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        return True


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return record.exc_text or ""


class TextFormatter(logging.Formatter):
    """`2026-07-20 08:30:01,123 INFO fangxun.x [request_id=… warning_id=12] message`, credentials masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        shown = [f"{name}={value}" for name in FIELDS if (value := getattr(record, name, None)) is not None]
        record.context = f" [{' '.join(shown)}]" if shown else ""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the context and access fields present,
    exception; every text masked."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": redact(record.getMessage())}
        for name in (*FIELDS, *ACCESS_FIELDS):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = redact(value) if isinstance(value, str) else value
        if exception := _exception_text(self, record):
            line["exception"] = redact(exception)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(chosen: str | None = None) -> str:
    """The format asked for: `chosen`, else $FANGXUN_LOG_FORMAT, else text."""
    value = chosen or os.environ.get(FORMAT_VARIABLE) or "text"
    return value if value in FORMATS else "text"


def setup_logging(chosen: str | None = None, stream: TextIO | None = None, level: str | int | None = None, *,
                  database_url: str | None = None) -> None:
    """Send every logger's lines (INFO and up, or $FANGXUN_LOG_LEVEL) to `stream` (stderr) in the chosen format,
    the session key and the database password masked wherever they appear. Called again, it replaces its own
    handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name("fangxun")
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format(chosen) == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "fangxun"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level or os.environ.get(LEVEL_VARIABLE, "INFO").upper())
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
    register_secret(os.environ.get("FANGXUN_SECRET_KEY"))
    if database_url:
        register_secret(urlsplit(database_url).password)
