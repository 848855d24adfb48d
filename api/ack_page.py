"""The 叫应 page a recipient opens from a notification: the warning, their name and a 收到 button (no script)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from fangxun.warnings.config import COLOUR_LABELS
from fangxun.warnings.delivery.outbox import compose
from fangxun.warnings.queries import WARNING_STATUS_LABELS

_CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f6f8;color:#222;
 font-size:17px;line-height:1.55}
header{background:#0b4f8a;color:#fff;padding:.7em 1em;font-size:1.05em}
main{max-width:34em;margin:0 auto;padding:1em}
section{background:#fff;border-radius:8px;padding:1em;margin-bottom:1em;box-shadow:0 1px 3px rgba(0,0,0,.1)}
h1{font-size:1.2em;margin:.2em 0 .5em}
.badge{display:inline-block;padding:.1em .7em;border-radius:1em;color:#fff;font-weight:bold;background:#5f6368}
.badge-red{background:#c62828}.badge-orange{background:#ef6c00}.badge-yellow{background:#f9a825;color:#222}
.badge-blue{background:#1565c0}
.meta{color:#555;font-size:.92em;margin:.3em 0}
.text{white-space:pre-wrap}
.notice{color:#8d6e00;font-weight:bold}
.done{color:#2e7d32;font-size:1.3em;font-weight:bold;text-align:center;margin:.4em 0}
.late{color:#b00020;text-align:center}
button{display:block;width:100%;background:#c62828;color:#fff;border:0;border-radius:8px;padding:.8em;
 font-size:1.4em;font-weight:bold;cursor:pointer}
.hint{color:#555;font-size:.9em;text-align:center}
"""


def local_time(moment: datetime | None, zone: str) -> str:
    """2026-06-01 10:05 in the configured zone ('' for None)."""
    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _frame(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex, nofollow">'
            f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
            f"<body><header>防汛预警 · 叫应确认</header><main>{body}</main></body></html>")


def ack_page(notification, warning, token: str, zone: str, just_acknowledged: bool = False) -> str:
    """The page of one notification: the warning, whom it is for, and the button or the time of 叫应."""
    colour = warning.colour or ""
    badge = f'<span class="badge badge-{escape(colour)}">{escape(warning.event)}{escape(COLOUR_LABELS.get(colour, ""))}预警</span>'
    period = ""
    if warning.onset or warning.expires:
        period = (f'<p class="meta">生效时间：{escape(local_time(warning.onset, zone))} 至 '
                  f'{escape(local_time(warning.expires, zone)) or "另行通知"}</p>')
    state = ""
    if warning.status != "active":
        state = f'<p class="notice">该预警{escape(WARNING_STATUS_LABELS.get(warning.status, warning.status))}。</p>'
    title, _ = compose(notification.payload or {}, warning.messages or {}, notification.recipient_name)
    details = "".join(f'<p class="text">{escape(text)}</p>' for text in (warning.description, warning.instruction) if text)
    info = (f"<section>{badge}<h1>{escape(warning.headline or title)}</h1>"
            f'<p class="meta">发布：{escape(warning.sender_name)} {escape(local_time(warning.sent, zone))}</p>'
            f"{period}{state}{details}</section>")
    if notification.acked_at is not None:
        late = '<p class="late">（已超过确认时限）</p>' if notification.acked_late else ""
        lead = "已确认收到" if just_acknowledged else "您已确认收到"
        action = (f'<section><p class="done">✓ {lead}</p>'
                  f'<p class="hint">确认时间：{escape(local_time(notification.acked_at, zone))}</p>{late}</section>')
    else:
        deadline = ""
        if notification.ack_deadline is not None:
            deadline = f'<p class="hint">请于 {escape(local_time(notification.ack_deadline, zone))} 前确认，逾期将逐级上报。</p>'
        action = (f'<section><form method="post" action="/ack/{escape(token)}">'
                  f'<button type="submit">收到</button></form>{deadline}</section>')
    to = (f'<section><p>致：<b>{escape(notification.recipient_name)}</b></p>'
          f'{f"<p class=meta>{escape(title)}</p>" if title and title != warning.headline else ""}</section>')
    return _frame("预警叫应确认", to + info + action)


def invalid_page(detail: str) -> str:
    """What an unknown, malformed or throttled link shows (nothing about any notification)."""
    return _frame("确认链接无效", f'<section><h1>无法确认</h1><p>{escape(detail)}</p>'
                                 f'<p class="hint">请使用通知中的完整链接，或联系值班室。</p></section>')
