"""Self-contained Chinese HTML pages (inline CSS, no external URLs); every value is escaped."""

from __future__ import annotations

from html import escape

from aiohttp import web

from fangxun.plans.plan_fields import KIND_LABELS, STATUS_LABELS
from fangxun.plans.unit_rules import LEVEL_LABELS

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f6f8;color:#222}
header{background:#0b4f8a;color:#fff;padding:.6em 1.2em;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:1.2em;margin:0}
header form{display:inline;margin-left:1em}
main{max-width:960px;margin:1.5em auto;padding:0 1em}
section{background:#fff;border-radius:6px;padding:1em 1.2em;margin-bottom:1.2em;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h2{font-size:1.05em;margin:0 0 .6em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e3e6ea;padding:.35em .5em;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.alert{color:#b00020;font-weight:bold}
.figures{display:flex;gap:1em;flex-wrap:wrap}
.figure{flex:1 1 10em;background:#f7f9fb;border-radius:6px;padding:.6em;text-align:center}
.figure b{display:block;font-size:1.6em}
.login{max-width:22em;margin:4em auto}
.login label{display:block;margin:.8em 0 .2em}
.login input{width:100%;box-sizing:border-box;padding:.45em;font-size:1em}
button{background:#0b4f8a;color:#fff;border:0;border-radius:4px;padding:.45em 1.2em;font-size:1em;cursor:pointer}
header button{background:#fff;color:#0b4f8a;padding:.25em .8em}
.login button{margin-top:1.2em;width:100%}
.message{color:#b00020;margin:.6em 0}
"""


def html_response(body: str, status: int = 200, headers: dict | None = None) -> web.Response:
    """An HTML response with the page security headers."""
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        headers={**PAGE_HEADERS, **(headers or {})})


def page(title: str, content: str, user: str | None = None, extra_css: str = "") -> str:
    """The page frame; `content` must already be escaped HTML, `extra_css` trusted CSS."""
    account = ""
    if user is not None:
        account = (f'<div>当前用户：{escape(user)}<form method="post" action="/logout">'
                   '<button type="submit">退出登录</button></form></div>')
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} - 防汛预案登记</title><style>{_CSS}{extra_css}</style></head>"
            f"<body><header><h1>防汛预案登记</h1>{account}</header><main>{content}</main></body></html>")


def login_page(message: str = "", next_path: str = "/", username: str = "") -> str:
    """The sign-in form (用户名, 密码, 登录)."""
    notice = f'<p class="message" role="alert">{escape(message)}</p>' if message else ""
    form = (f'<section class="login"><h2>登录</h2>{notice}'
            f'<form method="post" action="/login">'
            f'<input type="hidden" name="next" value="{escape(next_path)}">'
            f'<label for="username">用户名</label>'
            f'<input id="username" name="username" autocomplete="username" required value="{escape(username)}">'
            f'<label for="password">密码</label>'
            f'<input id="password" name="password" type="password" autocomplete="current-password" required>'
            f'<button type="submit">登录</button></form></section>')
    return page("登录", form)


def error_page(status: int, detail: str) -> str:
    """A page for an error status."""
    return page("出错了", f'<section><h2>出错了（{status}）</h2><p>{escape(detail)}</p>'
                         f'<p><a href="/">返回首页</a></p></section>')


def _rows(pairs) -> str:
    return "".join(f'<tr><td>{escape(str(label))}</td><td class="n">{int(count)}</td></tr>' for label, count in pairs)


def _report_links(as_of: str) -> str:
    """Links to the annual statistics report of this year and the last."""
    year = int(as_of[:4])
    return "年度统计报告：" + " ".join(f'<a href="/api/reports/annual?year={y}&amp;format=html">{y}年</a>'
                                   for y in (year - 1, year))


def overview_page(stats: dict, attention: list[dict], user: str) -> str:
    """The overview of the registry: units, plans, coverage gaps and the plans needing attention."""
    root = stats.get("root")
    scope = f"{escape(root['name'])}（{escape(root['code'])}）" if root else "登记库为空"
    figures = [("覆盖缺口", stats["gap_units"], "个区划缺少有效预案"),
               ("逾期未评估", stats["overdue_reviews"], "件预案"),
               ("即将到期", stats["due_soon_reviews"], "件预案"),
               ("责任人无法联系", stats["unreachable_plans"], "件预案")]
    figure_html = "".join(
        f'<div class="figure">{escape(label)}<b{" class=alert" if count else ""}>{int(count)}</b>{escape(unit)}</div>'
        for label, count, unit in figures)
    units = "".join(
        f'<tr><td>{escape(LEVEL_LABELS[level])}</td><td class="n">{int(count)}</td>'
        f'<td class="n">{int(stats["complete_by_level"][level]["complete"])}</td>'
        f'<td class="n">{int(stats["complete_by_level"][level]["with_gaps"])}</td></tr>'
        for level, count in stats["units_by_level"].items())
    kinds = _rows((KIND_LABELS[k], n) for k, n in stats["plans_by_kind"].items())
    statuses = _rows((STATUS_LABELS[s], n) for s, n in stats["plans_by_status"].items())
    listed = "".join(
        f'<tr><td>{escape(p.get("unit_name", ""))}</td><td>{escape(p["title"])}</td>'
        f'<td>{escape(p["kind_label"])}</td><td>{escape(p["next_review_due"] or "未批准")}</td></tr>'
        for p in attention) or '<tr><td colspan="4">没有逾期未评估的预案</td></tr>'
    content = (
        f'<section><h2>概况：{scope}</h2><p>统计日期：{escape(stats["as_of"])}</p>'
        f'<p><a href="/map">预案覆盖图（值班图）</a> · <a href="/board">预警叫应看板</a> · '
        f'<a href="/events">降雨过程与雨雪冰冻事件</a> · {_report_links(stats["as_of"])}</p>'
        f'<div class="figures">{figure_html}</div></section>'
        f'<section><h2>行政区划</h2><table><tr><th>级别</th><th>数量</th><th>预案齐全</th><th>有缺口</th></tr>'
        f'{units}</table></section>'
        f'<section><h2>预案（按类型）</h2><table><tr><th>类型</th><th>数量</th></tr>{kinds}</table></section>'
        f'<section><h2>预案（按状态）</h2><table><tr><th>状态</th><th>数量</th></tr>{statuses}</table></section>'
        f'<section><h2>逾期未评估的预案</h2><table><tr><th>区划</th><th>预案名称</th><th>类型</th>'
        f'<th>应评估日期</th></tr>{listed}</table></section>')
    return page("概况", content, user=user)
