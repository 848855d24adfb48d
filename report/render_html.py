"""The report as one self-contained, printable Chinese HTML page: inline CSS, inline SVG charts, no scripts.

The data of the page is built here; report/templates/report.html (and table.html, the charts) draw it."""

from __future__ import annotations

from fangxun.plans.plan_fields import STATUS_LABELS
from fangxun.plans.review_clock import STATUSES
from fangxun.report.charts import Series, bar_layout, column_layout
from fangxun.report.model import AnnualReport, Cell, Table
from fangxun.report.period import ACK_BUCKETS
from fangxun.report.tables import MONTHS
from fangxun.report.templating import number, render

KIND_COLOURS = {"rainfall": "#2b7bba", "snow_ice": "#7fb8d9"}
STATUS_COLOURS = {"current": "#3a9b5b", "due_soon": "#e3a21a", "overdue": "#c8362f", "revising": "#6a7fc1",
                  "withdrawn": "#a0a6ad"}


def cell(value: Cell) -> dict:
    """A table cell: its text (— for no value) and whether it is a number (set right)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"number": True, "text": number(value) if isinstance(value, float) else str(value)}
    return {"number": False, "text": "—" if value is None else str(value)}


def table_data(table: Table, limit: int | None = None) -> dict:
    """One table (its first `limit` rows) with its footnote, and a word on the rows left out."""
    shown = table.rows if limit is None else table.rows[:limit]
    notes = [table.note] if table.note else []
    if len(shown) < len(table.rows):
        notes.append(f"此处列出前 {len(shown)} 行，共 {len(table.rows)} 行，完整清单见 XLSX 或 CSV。")
    return {"key": table.key, "title": table.title, "columns": list(table.columns), "note": " ".join(notes),
            "rows": [{"total": bool(row) and row[0] == "合计", "cells": [cell(value) for value in row]}
                     for row in shown]}


def table_html(table: Table, limit: int | None = None) -> str:
    """One table under its title (its first `limit` rows), with its footnote; a 合计 row is set off."""
    return render("table.html", table=table_data(table, limit))


def charts(figures: dict) -> list[dict]:
    """The charts: per month (events by kind, warnings), 叫应 times, plan status by district."""
    events = figures["events"]
    event_series = [Series(events["labels"].get(kind, kind), tuple(counts), KIND_COLOURS.get(kind, "#5c8fb8"))
                    for kind, counts in events["by_month"].items()]
    weather, decisions = figures["notifications"]["warnings"], figures["notifications"]["decisions"]
    districts = figures["plans"]["by_district"]
    return [
        column_layout("events_by_month", "各月降雨及雨雪冰冻过程（轮）", list(MONTHS), event_series),
        column_layout("warnings_by_month", "各月气象预警发布（次）", list(MONTHS),
                      [Series("气象预警", tuple(figures["warnings"]["by_month"]), "#d9822b")]),
        column_layout("ack_times", "叫应用时分布（条）", [label for label, _ in ACK_BUCKETS],
                      [Series("气象预警通知", tuple(weather["ack_histogram"]), "#2b7bba"),
                       Series("应急响应决定通知", tuple(decisions["ack_histogram"]), "#c8362f")]),
        bar_layout("plans_by_district", f"预案年末状态（按区县，{figures['plans']['as_of']}）",
                   [district["name"] for district in districts],
                   [Series(STATUS_LABELS[status], tuple(d["by_status"][status] for d in districts),
                           STATUS_COLOURS[status]) for status in STATUSES]),
    ]


# Long lists are cut on the page (the files keep every row).
LIMITS = {"coverage_gaps": 300}
SECTIONS = (("一、预案", ("plans_by_level", "plans_by_kind", "plans_by_district", "coverage", "coverage_by_kind",
                        "plan_reviews", "coverage_gaps")),
            ("二、过程与预警", ("by_month", "events", "warnings")),
            ("三、通知与叫应", ("notifications", "ack_ways", "calls", "ack_times")),
            ("四、应急响应", ("decisions_by_level", "decisions")),
            ("五、灾情与处置", ("journal",)))


def report_html(report: AnnualReport) -> str:
    """The whole page."""
    meta = dict(report.summary_table().rows)
    sections = [{"heading": heading, "tables": [table_data(report.table(key), LIMITS.get(key)) for key in keys]}
                for heading, keys in SECTIONS]
    return render("report.html", title=report.title, period=meta["统计期间"], generated=meta["生成时间"],
                  summary=report.summary, charts=charts(report.figures), sections=sections)
