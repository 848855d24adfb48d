"""CSV of the report: one file holding every table (title row, headers, rows, blank line), or one per table."""

from __future__ import annotations

import csv
import io

from fangxun.report.model import AnnualReport, Table

BOM = "\ufeff"  # Excel opens UTF-8 CSV as such only with it


def _cell(value) -> object:
    return "" if value is None else value


def _write(writer, table: Table, titled: bool) -> None:
    if titled:
        writer.writerow([table.title])
    writer.writerow(table.columns)
    writer.writerows([_cell(value) for value in row] for row in table.rows)
    if titled and table.note:
        writer.writerow([f"注：{table.note}"])


def report_csv(report: AnnualReport) -> bytes:
    """Every table of the report (the 摘要 first) in one UTF-8 CSV with a BOM, each under its title row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, table in enumerate((report.summary_table(), *report.tables)):
        if index:
            writer.writerow([])
        _write(writer, table, titled=True)
    return (BOM + out.getvalue()).encode("utf-8")


def table_csv(table: Table) -> bytes:
    """One table as a plain CSV (headers first, UTF-8 with a BOM)."""
    out = io.StringIO()
    _write(csv.writer(out, lineterminator="\r\n"), table, titled=False)
    return (BOM + out.getvalue()).encode("utf-8")
