"""Inline SVG bar charts (stacked, vertical or horizontal) from plain numbers; no scripts, no external files. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

FONT = 'font-family="Microsoft YaHei,PingFang SC,Noto Sans CJK SC,sans-serif"'


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


def _legend(series: list[Series], x: float, y: float) -> str:
    items, offset = [], x
    for layer in series:
        items.append(f'<rect x="{offset:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{escape(layer.colour)}"/>'
                     f'<text x="{offset + 14:.1f}" y="{y:.1f}" font-size="12">{escape(layer.name)}</text>')
        offset += 28 + 13 * len(layer.name)
    return "".join(items)


def _frame(key: str, title: str, width: int, height: int, body: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(key)}" role="img" '
            f'aria-label="{escape(title)}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" {FONT}>'
            f'<title>{escape(title)}</title>'
            f'<text x="{width / 2:.1f}" y="18" font-size="14" font-weight="bold" text-anchor="middle">'
            f'{escape(title)}</text>'
            f'{body}</svg>')


def column_chart(key: str, title: str, categories: list[str], series: list[Series], *, width: int = 720,
                 height: int = 280) -> str:
    """Vertical stacked columns, one per category, with a value axis and the total above each column."""
    left, right, top, bottom = 44, 12, 46, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = _totals(categories, series)
    ceiling, step = axis(max(totals, default=0))
    slot = plot_w / max(len(categories), 1)
    bar = slot * 0.62
    parts = [_legend(series, left, 36)]
    for tick in range(round(ceiling / step) + 1):
        value = step * tick
        y = top + plot_h - plot_h * value / ceiling
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#dde2e7"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{value:g}</text>')
    for index, category in enumerate(categories):
        x = left + slot * index + (slot - bar) / 2
        base = top + plot_h
        for layer in series:
            value = layer.values[index]
            if value:
                h = plot_h * value / ceiling
                base -= h
                parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                             f'fill="{escape(layer.colour)}"><title>{escape(category)} {escape(layer.name)}：'
                             f'{value:g}</title></rect>')
        if totals[index]:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{base - 4:.1f}" font-size="11" text-anchor="middle">'
                         f'{totals[index]:g}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 18:.1f}" font-size="12" '
                     f'text-anchor="middle">{escape(category)}</text>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#555"/>')
    return _frame(key, title, width, height, "".join(parts))


def bar_chart(key: str, title: str, categories: list[str], series: list[Series], *, width: int = 720,
              row_height: int = 24) -> str:
    """Horizontal stacked bars, one row per category (long labels fit on the left), total at the end."""
    # room on the left for the longest label (12px text, CJK characters about 12px wide)
    left, right, top = min(16 + 12 * max((len(c) for c in categories), default=4), 240), 50, 46
    height = top + row_height * len(categories) + 28
    plot_w = width - left - right
    totals = _totals(categories, series)
    ceiling, step = axis(max(totals, default=0))
    parts = [_legend(series, left, 36)]
    for tick in range(round(ceiling / step) + 1):
        x = left + plot_w * step * tick / ceiling
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 24}" stroke="#dde2e7"/>'
                     f'<text x="{x:.1f}" y="{height - 8}" font-size="11" text-anchor="middle">'
                     f'{step * tick:g}</text>')
    for index, category in enumerate(categories):
        y = top + row_height * index + 3
        bar = row_height - 6
        start = left
        for layer in series:
            value = layer.values[index]
            if value:
                w = plot_w * value / ceiling
                parts.append(f'<rect x="{start:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar}" '
                             f'fill="{escape(layer.colour)}"><title>{escape(category)} {escape(layer.name)}：'
                             f'{value:g}</title></rect>')
                start += w
        parts.append(f'<text x="{left - 6}" y="{y + bar - 4:.1f}" font-size="12" text-anchor="end">'
                     f'{escape(category)}</text>'
                     f'<text x="{start + 4:.1f}" y="{y + bar - 4:.1f}" font-size="11">{totals[index]:g}</text>')
    return _frame(key, title, width, height, "".join(parts))
