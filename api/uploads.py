"""A CSV or XLSX list posted to an import route (multipart field `file`, or the file itself as the body), read
into rows off the event loop as the command reads a file."""

from __future__ import annotations

import asyncio
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from fangxun.core.errors import BadInput, UnsupportedMediaType
from fangxun.plans.tabular import SUFFIXES, read_table

BODY_TYPES = {"text/csv": ".csv", "application/csv": ".csv",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx"}
FIELD = "file"


async def _posted(request: web.Request) -> tuple[bytes, str]:
    """The posted file's bytes and its name (its suffix says CSV or XLSX)."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        part = form.get(FIELD)
        if not isinstance(part, web.FileField):
            raise BadInput(f"{FIELD}：请在 multipart/form-data 的 {FIELD} 字段上传 .csv 或 .xlsx 文件",
                           extra={"field": FIELD})
        # aiohttp's own client sends a non-ASCII name percent-encoded; browsers and curl send it as it is.
        name = Path(unquote(part.filename or "")).name
        if Path(name).suffix.lower() not in SUFFIXES:
            raise BadInput(f"{FIELD}：不支持的文件类型“{name}”，请使用 .csv 或 .xlsx", extra={"field": FIELD})
        return part.file.read(), name
    suffix = BODY_TYPES.get(request.content_type)
    if suffix is None:
        raise UnsupportedMediaType("请求体应为 multipart/form-data（file 字段）、text/csv 或 "
                                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return await request.read(), f"upload{suffix}"


def _read(data: bytes, name: str, aliases: dict, required: tuple) -> list[tuple[int, dict]]:
    with tempfile.TemporaryDirectory(prefix="fangxun-upload-") as folder:
        path = Path(folder) / f"upload{Path(name).suffix.lower()}"
        path.write_bytes(data)
        try:
            return read_table(path, aliases, required=required)
        # A workbook anyone could post: a zip of broken XML or odd parts fails deep inside openpyxl (ParseError is
        # a SyntaxError); say the file cannot be read rather than answer 500.
        except (ValueError, TypeError, LookupError, SyntaxError, EOFError, zipfile.BadZipFile) as exc:
            raise BadInput(f"{FIELD}：无法读取文件“{name}”（{type(exc).__name__}），请另存为 .xlsx 或 UTF-8 编码的 .csv",
                           extra={"field": FIELD}) from None


async def uploaded_rows(request: web.Request, aliases: dict, required: tuple) -> tuple[list[tuple[int, dict]], str]:
    """The rows of the posted list (as read_table gives them) and the file's name."""
    data, name = await _posted(request)
    if not data:
        raise BadInput(f"{FIELD}：上传的文件是空的", extra={"field": FIELD})
    return await asyncio.to_thread(_read, data, name, aliases, required), name
