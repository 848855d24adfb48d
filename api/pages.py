"""Self-contained Chinese HTML pages (inline CSS, no external URLs): sign-in, errors and the overview, drawn by
the templates in api/templates/ (autoescaped)."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.templating import render
from fangxun.plans.plan_fields import KIND_LABELS, STATUS_LABELS
from fangxun.plans.unit_rules import LEVEL_LABELS

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def html_response(body: str, status: int = 200, headers: dict | None = None) -> web.Response:
    """An HTML response with the page security headers."""
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        headers={**PAGE_HEADERS, **(headers or {})})


def login_page(message: str = "", next_path: str = "/", username: str = "", retry_after: int = 0) -> str:
    """The sign-in form (用户名, 密码, 登录), with why the last try failed and how many seconds to wait."""
    return render("login.html", title="登录", user=None, message=message, next_path=next_path, username=username,
                  retry_after=retry_after)


def error_page(status: int, detail: str) -> str:
    """A page for an error status."""
    return render("error.html", title="出错了", user=None, status=status, detail=detail)


def overview_page(stats: dict, desk: dict, user: str, zone: str) -> str:
    """The duty officer's overview: warnings in force first, then the open events, then the registry's health
    (gaps and overdue reviews, worst first) and its figures. `desk`: warnings, events, gaps and overdue, each
    {"total", "items"}; duty (roster_overview.duty_overview) and reminders ({"sent", "unremindable"})."""
    year = int(stats["as_of"][:4])
    figures = [("覆盖缺口", int(stats["gap_units"]), "个区划缺少有效预案"),
               ("逾期未评估", int(stats["overdue_reviews"]), "件预案"),
               ("即将到期", int(stats["due_soon_reviews"]), "件预案"),
               ("责任人无法联系", int(stats["unreachable_plans"]), "件预案")]
    levels = [{"label": LEVEL_LABELS[level], "count": int(count),
               "complete": int(stats["complete_by_level"][level]["complete"]),
               "with_gaps": int(stats["complete_by_level"][level]["with_gaps"])}
              for level, count in stats["units_by_level"].items()]
    return render(
        "overview.html", title="概况", user=user, zone=zone, root=stats.get("root"), as_of=stats["as_of"],
        report_years=(year - 1, year), figures=figures, levels=levels,
        kinds=[(KIND_LABELS[k], int(n)) for k, n in stats["plans_by_kind"].items()],
        statuses=[(STATUS_LABELS[s], int(n)) for s, n in stats["plans_by_status"].items()],
        warnings=desk["warnings"], events=desk["events"], gaps=desk["gaps"], overdue=desk["overdue"],
        duty=desk["duty"], reminders=desk["reminders"])
