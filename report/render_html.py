"""The report as one self-contained, printable Chinese HTML page: inline CSS, inline SVG charts, no scripts."""

from __future__ import annotations

from html import escape

from fangxun.plans.plan_fields import STATUS_LABELS
from fangxun.plans.review_clock import STATUSES
from fangxun.report.charts import Series, bar_chart, column_chart
from fangxun.report.model import AnnualReport, Table
from fangxun.report.period import ACK_BUCKETS
from fangxun.report.tables import MONTHS

KIND_COLOURS = {"rainfall": "#2b7bba", "snow_ice": "#7fb8d9"}
STATUS_COLOURS = {"current": "#3a9b5b", "due_soon": "#e3a21a", "overdue": "#c8362f", "revising": "#6a7fc1",
                  "withdrawn": "#a0a6ad"}
_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;color:#222;background:#fff}
main{max-width:1000px;margin:0 auto;padding:1.2em 1.4em}
h1{font-size:1.5em;text-align:center;margin:.4em 0}
.meta{text-align:center;color:#555;margin:0 0 1.2em}
.summary{font-size:1.05em;line-height:1.9;text-indent:2em;background:#f5f8fb;padding:.8em 1em;border-radius:4px}
h2{font-size:1.15em;border-left:4px solid #0b4f8a;padding-left:.5em;margin:1.6em 0 .6em}
h3{font-size:1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin-bottom:.3em}
th,td{border:1px solid #cfd6dd;padding:.3em .45em;text-align:left}
th{background:#eef2f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;background:#f7f9fb}
p.note{font-size:.82em;color:#555;margin:.2em 0 1em}
.charts{display:flex;flex-direction:column;gap:1em;align-items:center}
svg.chart{max-width:100%;height:auto}
@media print{main{max-width:none;padding:0}section,figure,table{break-inside:avoid}h2{break-after:avoid}
.summary{background:none}}
@page{size:A4;margin:15mm}
"""


def _cell(value) -> str:
    if value is None or value == "":
        return "<td>—</td>" if value is None else "<td></td>"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<td class="n">{value:g}</td>' if isinstance(value, float) else f'<td class="n">{value}</td>'
    return f"<td>{escape(str(value))}</td>"


def table_html(table: Table, limit: int | None = None) -> str:
    """One table under its title (its first `limit` rows), with its footnote; a 合计 row is set off."""
    head = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    shown = table.rows if limit is None else table.rows[:limit]
    rows = "".join(f'<tr{" class=total" if row and row[0] == "合计" else ""}>{"".join(_cell(v) for v in row)}</tr>'
                   for row in shown)
    if not table.rows:
        rows = f'<tr><td colspan="{len(table.columns)}">（无）</td></tr>'
    notes = [table.note] if table.note else []
    if len(shown) < len(table.rows):
        notes.append(f"此处列出前 {len(shown)} 行，共 {len(table.rows)} 行，完整清单见 XLSX 或 CSV。")
    note = f'<p class="note">注：{escape(" ".join(notes))}</p>' if notes else ""
    return (f'<section data-table="{escape(table.key)}"><h3>{escape(table.title)}</h3>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{note}</section>")


def charts_html(figures: dict) -> str:
    """The charts: per month (events by kind, warnings), 叫应 times, plan status by district."""
    events = figures["events"]
    event_series = [Series(events["labels"].get(kind, kind), tuple(counts), KIND_COLOURS.get(kind, "#5c8fb8"))
                    for kind, counts in events["by_month"].items()]
    weather, decisions = figures["notifications"]["warnings"], figures["notifications"]["decisions"]
    districts = figures["plans"]["by_district"]
    return "".join((
        column_chart("events_by_month", "各月降雨及雨雪冰冻过程（轮）", list(MONTHS), event_series),
        column_chart("warnings_by_month", "各月气象预警发布（次）", list(MONTHS),
                     [Series("气象预警", tuple(figures["warnings"]["by_month"]), "#d9822b")]),
        column_chart("ack_times", "叫应用时分布（条）", [label for label, _ in ACK_BUCKETS],
                     [Series("气象预警通知", tuple(weather["ack_histogram"]), "#2b7bba"),
                      Series("应急响应决定通知", tuple(decisions["ack_histogram"]), "#c8362f")]),
        bar_chart("plans_by_district", f"预案年末状态（按区县，{figures['plans']['as_of']}）",
                  [district["name"] for district in districts],
                  [Series(STATUS_LABELS[status], tuple(d["by_status"][status] for d in districts),
                          STATUS_COLOURS[status]) for status in STATUSES]),
    ))


# Long lists are cut on the page (the files keep every row).
LIMITS = {"coverage_gaps": 300}
SECTIONS = (("一、预案", ("plans_by_level", "plans_by_kind", "plans_by_district", "coverage", "coverage_by_kind",
                        "plan_reviews", "coverage_gaps")),
            ("二、过程与预警", ("by_month", "events", "warnings")),
            ("三、通知与叫应", ("notifications", "ack_times")),
            ("四、应急响应", ("decisions_by_level", "decisions")),
            ("五、灾情与处置", ("journal",)))


def report_html(report: AnnualReport) -> str:
    """The whole page."""
    meta = dict(report.summary_table().rows)
    sections = []
    for heading, keys in SECTIONS:
        sections.append(f"<h2>{escape(heading)}</h2>" + "".join(table_html(report.table(key), LIMITS.get(key))
                                                                for key in keys))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(report.title)}</title><style>{_CSS}</style></head><body><main>"
            f"<h1>{escape(report.title)}</h1>"
            f'<p class="meta">统计期间：{escape(meta["统计期间"])} · 生成时间：{escape(meta["生成时间"])}</p>'
            f'<h2>综述</h2><p class="summary" id="summary">{escape(report.summary)}</p>'
            f'<h2>图表</h2><figure class="charts">{charts_html(report.figures)}</figure>'
            f'{"".join(sections)}</main></body></html>')
