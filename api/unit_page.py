"""The printable contact sheet of one unit (联系单), in Chinese; every value is escaped."""

from __future__ import annotations

from html import escape

from fangxun.api.pages import page
from fangxun.plans.unit_rules import LEVEL_LABELS
from fangxun.plans.unit_status import UNIT_STATUS_LABELS

SHEET_CSS = """
.crumbs{margin:0 0 1em;font-size:.95em}
.crumbs a{color:#0b4f8a}
.status{display:inline-block;padding:.05em .6em;border-radius:1em;color:#fff;font-size:.8em;margin-left:.6em;
 vertical-align:middle}
.status-current{background:#2e7d32}.status-due_soon{background:#f9a825;color:#222}
.status-overdue{background:#c62828}.status-none{background:#5f6368}
.plan-overdue{color:#b00020;font-weight:bold}.plan-withdrawn{color:#777;text-decoration:line-through}
.note{color:#8d6e00}
@page{size:A4;margin:14mm}
@media print{
 header,.no-print{display:none}
 body{background:#fff;font-size:10.5pt}
 main{max-width:none;margin:0;padding:0}
 section{box-shadow:none;padding:0;margin:0 0 1.2em}
 a{color:#000;text-decoration:none}
 th,td{border-bottom:1px solid #888}
 tr{break-inside:avoid}
 .status{color:#000;border:1px solid #000;background:none}
}
"""


def _table(headers: list[str], rows: list[str], empty: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(rows) or f'<tr><td colspan="{len(headers)}">{escape(empty)}</td></tr>'
    return f"<table><tr>{head}</tr>{body}</table>"


def _status(status: str) -> str:
    return f'<span class="status status-{escape(status)}">{escape(UNIT_STATUS_LABELS[status])}</span>'


def _phone(contact: dict) -> str:
    if not contact["phone"]:
        return ""
    return f'<a href="tel:{escape(contact["phone"])}">{escape(contact["phone_display"])}</a>'


def unit_page(sheet: dict, user: str, kind_labels: dict[str, str]) -> str:
    """The contact sheet: breadcrumb, plans, responsible persons, shelters and the units below."""
    crumbs = ['<a href="/">概况</a>'] + [f'<a href="/units/{escape(u["code"])}">{escape(u["name"])}</a>'
                                         for u in sheet["breadcrumb"]] + [f"<span>{escape(sheet['name'])}</span>"]
    notes = []
    if sheet["missing_kinds"]:
        kinds = "、".join(escape(kind_labels.get(k, k)) for k in sheet["missing_kinds"])
        notes.append(f'<p class="alert">缺少有效的：{kinds}</p>')
    if sheet["synthetic"]:
        notes.append('<p class="note">地图上的边界为示意边界（非真实界线）。</p>')
    head = (f'<nav class="crumbs" aria-label="上级区划">{" › ".join(crumbs)}</nav>'
            f'<section><h2>{escape(sheet["name"])}{_status(sheet["status"])}</h2>'
            f'<p>区划代码 {escape(sheet["code"])} · {escape(LEVEL_LABELS[sheet["level"]])} · '
            f'打印日期 {escape(sheet["as_of"])}</p>{"".join(notes)}'
            f'<p class="no-print"><a href="/map">返回预案覆盖图</a> · 打印本页：Ctrl+P</p></section>')

    plan_rows = [
        f'<tr><td>{escape(p["kind_label"])}</td><td>{escape(p["title"])}</td>'
        f'<td class="plan-{escape(p["status"])}">{escape(p["status_label"])}</td>'
        f'<td>{escape(p["approved_on"] or "")}</td><td>{escape(p["last_reviewed_on"] or "")}</td>'
        f'<td>{escape(p["next_review_due"] or "未定")}</td><td>{escape(p["version"])}</td></tr>'
        for p in sheet["plans"]]
    plan_kinds = {p["id"]: p["kind_label"] for p in sheet["plans"]}
    person_rows = [
        f'<tr><td>{escape(c["name"])}</td><td>{escape(c["role_label"])}</td><td>{escape(c["position"])}</td>'
        f'<td>{_phone(c)}</td><td>{escape(plan_kinds.get(c["plan_id"], "本级"))}</td></tr>'
        for c in sheet["contacts"]]
    shelter_rows = [
        f'<tr><td>{escape(s["name"])}</td><td class="n">{int(s["capacity"] or 0)}</td>'
        f'<td>{escape(s["address"])}</td></tr>'
        for s in sheet["shelters"]]
    child_rows = [
        f'<tr><td><a href="/units/{escape(c["code"])}">{escape(c["name"])}</a></td><td>{escape(c["code"])}</td>'
        f'<td>{_status(c["status"])}</td></tr>'
        for c in sheet["children"]]
    content = (
        head
        + "<section><h2>预案</h2>" + _table(["类型", "名称", "状态", "批准日期", "最近评估", "下次评估", "版本"],
                                          plan_rows, "未登记预案") + "</section>"
        + "<section><h2>责任人及联系电话</h2>" + _table(["姓名", "角色", "职务", "电话", "所属预案"],
                                                person_rows, "未登记责任人") + "</section>"
        + "<section><h2>避险安置点</h2>" + _table(["名称", "可容纳人数", "地址"], shelter_rows, "未登记避险安置点")
        + "</section>"
        + f'<section><h2>下级区划（{len(sheet["children"])} 个）</h2>'
        + _table(["名称", "区划代码", "预案状态"], child_rows, "没有下级区划") + "</section>")
    return page(f"{sheet['name']}联系单", content, user=user, extra_css=SHEET_CSS)
