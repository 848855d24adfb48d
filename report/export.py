"""The report in each format: bytes, media type and file name; writing a directory of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fangxun.core.errors import BadInput
from fangxun.report.model import AnnualReport
from fangxun.report.render_csv import report_csv, table_csv
from fangxun.report.render_html import report_html
from fangxun.report.render_xlsx import report_xlsx

FORMATS = ("json", "csv", "xlsx", "html")
MEDIA_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class Rendered:
    """One format of the report, ready to send or write."""

    body: bytes
    media_type: str
    filename: str


def check_format(name: str | None) -> str:
    """A known format name (json when absent), else BadInput naming the field."""
    name = (name or "json").strip().lower()
    if name not in FORMATS:
        raise BadInput(f"format：未知格式 {name!r}（可选 {'、'.join(FORMATS)}）", extra={"field": "format"})
    return name


def render(report: AnnualReport, name: str) -> Rendered:
    """The report as format `name` (one of FORMATS)."""
    if name == "json":
        body = json.dumps(report.as_dict(), ensure_ascii=False, indent=1).encode("utf-8")
    elif name == "csv":
        body = report_csv(report)
    elif name == "xlsx":
        body = report_xlsx(report)
    else:
        body = report_html(report).encode("utf-8")
    return Rendered(body, MEDIA_TYPES[check_format(name)], report.filename(name))


def write_directory(report: AnnualReport, folder: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the chosen formats into `folder` (created if needed); CSV is one file per table. The paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in formats:
        if name == "csv":
            stem = report.filename("csv").removesuffix(".csv")
            for table in (report.summary_table(), *report.tables):
                path = folder / f"{stem}-{table.key}.csv"
                path.write_bytes(table_csv(table))
                written.append(path)
            continue
        rendered = render(report, name)
        path = folder / rendered.filename
        path.write_bytes(rendered.body)
        written.append(path)
    return written
