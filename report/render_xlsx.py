"""XLSX of the report: a 摘要 sheet first, then one sheet per table with Chinese headers and its footnote."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from fangxun.report.model import AnnualReport, Table

SHEET_NAME_LIMIT = 31
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name from a table title (≤ 31 characters, none of []:*?/\\)."""
    base = _FORBIDDEN.sub("", title)[:SHEET_NAME_LIMIT] or "表"
    name, number = base, 2
    while name in taken:
        suffix = f"_{number}"
        name, number = base[:SHEET_NAME_LIMIT - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def _width(value) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK characters are two columns wide


def _fill(sheet, table: Table, wrap_last: bool = False) -> None:
    sheet.append(list(table.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
    widths = [_width(header) for header in table.columns]
    for row in table.rows:
        for index, value in enumerate(row[:len(widths)]):
            widths[index] = max(widths[index], _width(value))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    if wrap_last:
        for row in sheet.iter_rows(min_row=2):
            row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    if table.note:
        sheet.append([])
        sheet.append([f"注：{table.note}"])
    sheet.freeze_panes = "A2"


def report_xlsx(report: AnnualReport) -> bytes:
    """The workbook as bytes."""
    book = Workbook()
    taken: set[str] = set()
    first = book.active
    first.title = sheet_name("摘要", taken)
    _fill(first, report.summary_table(), wrap_last=True)
    for table in report.tables:
        _fill(book.create_sheet(sheet_name(table.title, taken)), table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
