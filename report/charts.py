"""Inline SVG bar charts (stacked, vertical or horizontal) from plain numbers; no scripts, no external files.

The layouts are plain data; column_chart.svg and bar_chart.svg in report/templates draw them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fangxun.report.templating import render


@dataclass(frozen=True)
class Series:
    """One stacked layer: its legend name, a value per category and a fill colour."""

    name: str
    values: tuple[float, ...]
    colour: str


def axis(value: float) -> tuple[float, int]:
    """(maximum, step) of a count axis: whole steps of 1, 2 or 5 × 10ⁿ, at most five of them."""
    if value <= 0:
        return 1, 1
    power = 1
    while True:
        for base in (1, 2, 5):
            step = base * power
            if value / step <= 5:
                return step * math.ceil(value / step), step
        power *= 10


def _totals(categories: list[str], series: list[Series]) -> list[float]:
    return [sum(layer.values[index] for layer in series) for index in range(len(categories))]


def _legend(series: list[Series], x: float, y: float) -> list[dict]:
    items, offset = [], x
    for layer in series:
        items.append({"x": offset, "y": y, "colour": layer.colour, "name": layer.name})
        offset += 28 + 13 * len(layer.name)
    return items


def column_layout(key: str, title: str, categories: list[str], series: list[Series], *, width: int = 720,
                  height: int = 280) -> dict:
    """Vertical stacked columns, one per category, with a value axis and the total above each column."""
    left, right, top, bottom = 44, 12, 46, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = _totals(categories, series)
    ceiling, step = axis(max(totals, default=0))
    slot = plot_w / max(len(categories), 1)
    bar = slot * 0.62
    ticks = [{"y": top + plot_h - plot_h * step * tick / ceiling, "value": step * tick}
             for tick in range(round(ceiling / step) + 1)]
    columns = []
    for index, category in enumerate(categories):
        x = left + slot * index + (slot - bar) / 2
        base, parts = top + plot_h, []
        for layer in series:
            value = layer.values[index]
            if value:
                size = plot_h * value / ceiling
                base -= size
                parts.append({"y": base, "size": size, "colour": layer.colour, "name": layer.name, "value": value})
        columns.append({"category": category, "x": x, "middle": x + bar / 2, "top": base, "parts": parts,
                        "total": totals[index]})
    return {"kind": "column", "key": key, "title": title, "width": width, "height": height, "left": left,
            "right": width - right, "base": top + plot_h, "bar": bar, "legend": _legend(series, left, 36),
            "ticks": ticks, "columns": columns}


def bar_layout(key: str, title: str, categories: list[str], series: list[Series], *, width: int = 720,
               row_height: int = 24) -> dict:
    """Horizontal stacked bars, one row per category (long labels fit on the left), total at the end."""
    # room on the left for the longest label (12px text, CJK characters about 12px wide)
    left, right, top = min(16 + 12 * max((len(c) for c in categories), default=4), 240), 50, 46
    height = top + row_height * len(categories) + 28
    plot_w = width - left - right
    totals = _totals(categories, series)
    ceiling, step = axis(max(totals, default=0))
    ticks = [{"x": left + plot_w * step * tick / ceiling, "value": step * tick}
             for tick in range(round(ceiling / step) + 1)]
    rows = []
    for index, category in enumerate(categories):
        start, parts = left, []
        for layer in series:
            value = layer.values[index]
            if value:
                size = plot_w * value / ceiling
                parts.append({"x": start, "size": size, "colour": layer.colour, "name": layer.name, "value": value})
                start += size
        rows.append({"category": category, "y": top + row_height * index + 3, "parts": parts, "end": start,
                     "total": totals[index]})
    return {"kind": "bar", "key": key, "title": title, "width": width, "height": height, "left": left, "top": top,
            "bar": row_height - 6, "legend": _legend(series, left, 36), "ticks": ticks, "rows": rows}


def column_chart(key: str, title: str, categories: list[str], series: list[Series], **size: int) -> str:
    """The SVG of column_layout(...)."""
    return render("column_chart.svg", chart=column_layout(key, title, categories, series, **size))


def bar_chart(key: str, title: str, categories: list[str], series: list[Series], **size: int) -> str:
    """The SVG of bar_layout(...)."""
    return render("bar_chart.svg", chart=bar_layout(key, title, categories, series, **size))
