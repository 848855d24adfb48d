"""One CAP document in: parse it, keep its text, ingest it in its own transaction (API, CLI and feeds alike)."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from lxml import etree
from sqlalchemy.ext.asyncio import async_sessionmaker

from fangxun.core.os_errors import reason
from fangxun.settings import Settings
from fangxun.warnings.delivery.outbox import Handoff
from fangxun.warnings.intake.accept import IntakeResult, ingest
from fangxun.warnings.intake.cap_parse import CapRejected, parse_cap
from fangxun.warnings.intake.expiry import assume_expiry
from fangxun.warnings.intake.normalised import NormalisedWarning

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8 = (b"utf-8", b"utf8")


def cap_text(data: bytes) -> str:
    """The document as text to store: UTF-8 as it came; another encoding re-serialised (without declaration)."""
    declared = _DECLARED.match(data[:200])
    if declared is None or declared.group(1).lower() in _UTF8:
        try:
            return data.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError:
            pass
    # parse_cap accepted it already, so no DTD or entity is left to resolve here.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.tostring(etree.fromstring(data, parser), encoding="unicode")


def read_cap(data: bytes, settings: Settings, lenient: bool = False) -> NormalisedWarning:
    """parse_cap with the configured size limit (CapRejected when refused), and the configured lifetime
    assumed when the document names no expiry (files, the API, feeds and --dry-run alike)."""
    warning = parse_cap(data, lenient=lenient, max_bytes=settings.warnings.max_cap_bytes)
    return assume_expiry(warning, settings.warnings.lifetime)


async def ingest_cap(sessions: async_sessionmaker, warning: NormalisedWarning, data: bytes, settings: Settings,
                     now: datetime, *, source: str, entered_by: str, handoff: Handoff | None = None,
                     expansions=None) -> IntakeResult:
    """Store a parsed CAP message with its document and the warning, then its notifications (ingest)."""
    return await ingest(sessions, warning, settings, now, raw=cap_text(data), source=source, entered_by=entered_by,
                        handoff=handoff, expansions=expansions)


def read_cap_bytes(path, max_bytes: int) -> bytes:
    """A CAP file's bytes; one larger than max_bytes is refused (CapRejected) before it is read."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            # A pipe or a growing file reports a wrong size: never read more than the limit allows.
            data = handle.read(max_bytes + 1) if size <= max_bytes else b""
    except OSError as exc:
        raise CapRejected(f"无法读取文件 {path}：{reason(exc)}", extra={"path": str(path)}) from None
    if size > max_bytes or len(data) > max_bytes:
        raise CapRejected(f"文件 {path.name} 有 {max(size, len(data))} 字节，超过上限 {max_bytes} 字节，未解析",
                          extra={"path": str(path), "max_bytes": max_bytes})
    return data
