"""HTML of the event pages: the list, one event's printable timeline, and the journal form; every value escaped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from fangxun.api import pages as templates
from fangxun.api.csp import inline_hashes
from fangxun.geo.map_assets import STATIC_URL
from fangxun.warnings.events.tables import FIGURE_LABELS, JOURNAL_FIGURES

STYLESHEET = f'<link rel="stylesheet" href="{STATIC_URL}event/event.css">'
_NAV = ('<nav class="site-nav no-print"><a href="/">概况</a> · <a href="/events">事件</a> · '
        '<a href="/board">值班看板</a></nav>')
_ACK_FIGURES = (("sent", "通知"), ("pending", "待发送"), ("delivered", "已送达待确认"), ("acknowledged", "已确认"),
                ("escalated", "已上报"), ("failed", "发送失败"))


def page_policy(html: str) -> str:
    """Our own stylesheet and script only, the frame's inline style by its hash; forms post back here."""
    styles = " ".join(inline_hashes(html, "style"))
    return ("default-src 'none'; script-src 'self'; "
            f"style-src 'self' {styles}; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def local_time(moment: datetime | None, zone: str) -> str:
    """`2026-07-20 16:05` in the service's zone; blank for None."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def duration_text(seconds: float) -> str:
    """A wait in Chinese: `42 分钟`, `2 小时 5 分钟`, `1 天 3 小时`."""
    minutes = max(0, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    if hours:
        return f"{hours} 小时 {minutes} 分钟" if minutes else f"{hours} 小时"
    return f"{minutes} 分钟"


def figure_value(value: float | int) -> str:
    """120, or 35.5 for a loss in 万元 (two decimals at most, no trailing zeros)."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def figure_text(name: str, value: float | int) -> str:
    """A reported figure with its label: 转移人数 120, 直接经济损失（万元）35.5."""
    return f"{FIGURE_LABELS[name]} {figure_value(value)}"


def _name(principal_name: str) -> str:
    """A signed-in user by their user name; tokens and the command line as recorded."""
    return principal_name.removeprefix("user:")


def _frame(title: str, content: str, user: str) -> str:
    return templates.page(title, f"{STYLESHEET}{_NAV}{content}", user=user)


def events_list_page(events: list[dict], user: str, zone: str) -> str:
    """Every event, newest first: kind, name, start and end, status, current level and counts."""
    rows = "".join(
        f'<tr data-event-id="{int(e["id"])}"><td>{escape(e["kind_label"])}</td>'
        f'<td><a href="/events/{int(e["id"])}">{escape(e["name"])}</a></td>'
        f'<td>{escape(local_time(e["started_at"], zone))}</td><td>{escape(local_time(e["ended_at"], zone))}</td>'
        f'<td><span class="status status-{escape(e["status"])}">{escape(e["status_label"])}</span></td>'
        f'<td>{escape(e["current_level_label"] or "—")}</td><td class="n">{int(e["warnings"])}</td>'
        f'<td class="n">{int(e["decisions"])}</td><td class="n">{int(e["journal_entries"])}</td></tr>'
        for e in events) or '<tr><td colspan="9">还没有事件</td></tr>'
    content = (f'<section><h2>降雨过程与雨雪冰冻事件</h2><table class="events"><tr><th>类型</th><th>名称</th>'
               f'<th>开始</th><th>结束</th><th>状态</th><th>当前响应</th><th>预警</th><th>响应决策</th>'
               f'<th>日志条目</th></tr>{rows}</table></section>')
    return _frame("事件", content, user)


def _ack_summary(summary: dict | None, label: str) -> str:
    if summary is None:
        return ""
    parts = "".join(f'<span class="ack ack-{key}" data-ack="{key}">{escape(name)} <b>{int(summary[key])}</b></span>'
                    for key, name in _ACK_FIGURES)
    rate = summary["ack_rate"]
    rate_text = "—" if rate is None else f"{rate * 100:.0f}%"
    return (f'<div class="acks"><span class="acks-label">{escape(label)}</span>{parts}'
            f'<span class="ack ack-rate" data-ack="rate">确认率 <b>{escape(rate_text)}</b></span></div>')


def _warning_item(item: dict, zone: str) -> str:
    colour = item["colour"] or "none"
    badge = f'{item["event"]}{item["colour_label"]}'
    return (f'<li class="item item-warning colour-{escape(colour)}" id="warning-{int(item["id"])}" '
            f'data-type="warning"><time>{escape(local_time(item["at"], zone))}</time>'
            f'<div class="body"><p class="what"><span class="badge badge-{escape(colour)}">{escape(badge)}</span>'
            f'<span class="verb">{escape(item["msg_label"])}</span>{escape(item["headline"])}</p>'
            f'{_ack_summary(item["notifications"], "通知与叫应：")}</div></li>')


def _decision_item(item: dict, zone: str) -> str:
    lag = ""
    if item["seconds_to_decide"] is not None:
        lag = f'<span class="lag">预警发布后 {escape(duration_text(item["seconds_to_decide"]))}决策</span>'
    who = f'决策人：{escape(_name(item["decided_by"]))}'
    if item["recorded_by"] and item["recorded_by"] != item["decided_by"]:
        who += f'（记录人：{escape(_name(item["recorded_by"]))}）'
    proposed = ""
    if item["proposed_level_label"]:
        proposed = f'<p class="meta">系统建议：{escape(item["proposed_level_label"])}'
        proposed += f'（{escape(item["proposal_rule"])}）</p>' if item["proposal_rule"] else "</p>"
    note = f'<p class="note">{escape(item["note"])}</p>' if item["note"] else ""
    notice = _ack_summary(item["notifications"], "响应通知与叫应：")
    return (f'<li class="item item-decision" id="decision-{int(item["id"])}" data-type="decision">'
            f'<time>{escape(local_time(item["at"], zone))}</time><div class="body">'
            f'<p class="what"><span class="badge badge-decision">{escape(item["action_label"])}'
            f'{escape(item["level_label"])}应急响应</span>{lag}</p><p class="meta">{who}</p>{proposed}{note}'
            f'{notice}</div></li>')


def _journal_item(item: dict, zone: str, event_id: int) -> str:
    where = "，".join(filter(None, [item["department_name"], item["unit_name"] or item["unit_code"] or ""]))
    figures = "".join(f'<li data-figure="{name}">{escape(figure_text(name, value))}</li>'
                      for name, value in item["figures"].items())
    figures = f'<ul class="figures-reported">{figures}</ul>' if figures else ""
    marks = ""
    if item["corrects_id"] is not None:
        marks += (f'<span class="mark mark-correction">更正 <a href="#entry-{int(item["corrects_id"])}">'
                  f'条目 #{int(item["corrects_id"])}</a></span>')
    if item["corrected_by"] is not None:
        marks += (f'<span class="mark mark-corrected">已更正，见 <a href="#entry-{int(item["corrected_by"])}">'
                  f'条目 #{int(item["corrected_by"])}</a></span>')
    else:
        marks += (f'<a class="no-print correct-link" href="/events/{event_id}/journal?corrects={int(item["id"])}">'
                  f'更正</a>')
    action = f'<p class="what">{escape(item["action"])}</p>' if item["action"] else ""
    text = f'<p class="note">{escape(item["text"])}</p>' if item["text"] else ""
    corrected = " corrected" if item["corrected_by"] is not None else ""
    return (f'<li class="item item-journal{corrected}" id="entry-{int(item["id"])}" data-type="journal">'
            f'<time>{escape(local_time(item["at"], zone))}</time><div class="body">'
            f'<p class="meta"><span class="entry-no">日志 #{int(item["id"])}</span>{escape(where)} · '
            f'填报：{escape(_name(item["author"]))}{marks}</p>{action}{figures}{text}</div></li>')


def _totals(totals: Mapping[str, float | int | None]) -> str:
    rows = "".join(
        f'<tr data-total="{name}"><td>{escape(FIGURE_LABELS[name])}</td>'
        f'<td class="n">{escape("未上报" if totals[name] is None else figure_value(totals[name]))}</td></tr>'
        for name in JOURNAL_FIGURES)
    return (f'<section class="totals" id="totals"><h2>上报数字合计</h2><table><tr><th>项目</th><th>合计</th></tr>'
            f'{rows}</table><p class="meta">合计按现行条目计算：已被更正的条目以其更正条目为准。</p></section>')


def event_page(timeline: dict, user: str, zone: str) -> str:
    """One event: header, then one chronological timeline, then the figure totals; printable."""
    event = timeline["event"]
    event_id = int(event["id"])
    districts = "、".join(d["name"] for d in timeline["districts"]) or "—"
    ended = local_time(event["ended_at"], zone) or "—"
    if event["close_reason_label"]:
        ended += f"（{event['close_reason_label']}）"
    facts = [("类型", event["kind_label"]), ("状态", event["status_label"]),
             ("开始", local_time(event["started_at"], zone)), ("结束", ended),
             ("当前响应", timeline["current_level_label"] or "未启动或已终止"), ("影响区县", districts),
             ("记录", f'预警 {timeline["counts"]["warnings"]} 条 · 响应决策 {timeline["counts"]["decisions"]} 次 · '
                      f'日志 {timeline["counts"]["journal_entries"]} 条')]
    facts_html = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    note = f'<p class="note">{escape(event["note"])}</p>' if event["note"] else ""
    render = {"warning": lambda i: _warning_item(i, zone), "decision": lambda i: _decision_item(i, zone),
              "journal": lambda i: _journal_item(i, zone, event_id)}
    items = "".join(render[item["type"]](item) for item in timeline["items"]) \
        or '<li class="item empty">暂无记录</li>'
    content = (
        f'<section class="event-head" data-event-id="{event_id}">'
        f'<div class="toolbar no-print"><a href="/events">全部事件</a>'
        f'<a href="/events/{event_id}/journal">填报事件日志</a>'
        f'<button type="button" id="print-button">打印</button></div>'
        f'<h2>{escape(event["name"])}</h2><dl class="facts">{facts_html}</dl>{note}</section>'
        f'<section class="timeline-section"><h2>事件时间线</h2><ol class="timeline">{items}</ol></section>'
        f'{_totals(timeline["totals"])}'
        f'<script src="{STATIC_URL}event/print.js" defer></script>')
    return _frame(event["name"], content, user)


def _select(name: str, label: str, options: list[tuple[str, str]], value: str) -> str:
    opts = "".join(f'<option value="{escape(key)}"{" selected" if key == value else ""}>{escape(text)}</option>'
                   for key, text in options)
    return f'<label for="{name}">{escape(label)}</label><select id="{name}" name="{name}">{opts}</select>'


def _input(name: str, label: str, value: str, **attrs: str) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{escape(val)}"' for key, val in attrs.items())
    return (f'<label for="{name}">{escape(label)}</label>'
            f'<input id="{name}" name="{name}" value="{escape(value)}"{extra}>')


def journal_form_page(event: dict, entries: list[dict], departments: Mapping[str, object], principal,
                      values: dict, message: str, zone: str) -> str:
    """The form of a new journal entry (or a correction), with the error of the last attempt."""
    event_id = int(event["id"])
    if principal.department:
        dept = departments.get(principal.department)
        dept_options = [(principal.department, getattr(dept, "name", principal.department))]
    else:
        dept_options = [("", "（不填部门）")] + [(key, d.name) for key, d in departments.items()]
    # A correction stays within its department: a department's account sees only its own entries here.
    standing = [e for e in entries if e["standing"] and e["department"] == (principal.department or e["department"])]
    correct_options = [("", "（新条目，不是更正）")] + [
        (str(e["id"]), f'#{e["id"]} {local_time(datetime.fromisoformat(e["recorded_at"]), zone)} '
                       f'{e["department_name"] or e["unit_name"] or e["unit_code"] or ""} {e["action"][:30]}')
        for e in standing]

    def get(name: str) -> str:
        return str(values.get(name, "") or "")

    figures = "".join(
        _input(name, FIGURE_LABELS[name], get(name), type="number", min="0",
               step="0.01" if name == "economic_loss" else "1", inputmode="decimal")
        for name in JOURNAL_FIGURES)
    notice = f'<p class="message" role="alert">{escape(message)}</p>' if message else ""
    closed = '<p class="meta">本事件已结束，仍可补报。</p>' if event["status"] == "closed" else ""
    content = (
        f'<section class="journal-form"><h2>填报事件日志：{escape(event["name"])}</h2>{closed}{notice}'
        f'<form method="post" action="/events/{event_id}/journal">'
        f'{_select("department", "部门", dept_options, get("department"))}'
        f'{_input("unit_code", "区划代码（12 位，可不填）", get("unit_code"), maxlength="12", inputmode="numeric")}'
        f'<label for="action">采取的措施</label><textarea id="action" name="action" rows="3" maxlength="1000">'
        f'{escape(get("action"))}</textarea>'
        f'<fieldset><legend>上报数字（不填表示未上报，0 表示没有）</legend><div class="figure-inputs">{figures}'
        f'</div></fieldset>'
        f'<label for="text">说明</label><textarea id="text" name="text" rows="4" maxlength="4000">'
        f'{escape(get("text"))}</textarea>'
        f'{_select("corrects_id", "更正已有条目", correct_options, get("corrects_id"))}'
        f'<p class="meta">日志只能追加：提交后不能修改或删除；发现错误请提交一条更正条目。记录时间以服务器时间为准。</p>'
        f'<button type="submit">提交</button> <a href="/events/{event_id}">返回事件时间线</a></form></section>')
    return _frame(f"填报事件日志 - {event['name']}", content, _name(principal.name))
