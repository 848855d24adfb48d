"""The audit (审计记录): who changed what and when, for administrators."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import reply
from fangxun.api.keys import PRINCIPAL, SESSIONS
from fangxun.api.params import int_param, text_param
from fangxun.api.routes_warnings import since_param
from fangxun.core.audit_queries import MAX_PAGE_SIZE, AuditFilter, list_audit
from fangxun.core.errors import BadInput, Forbidden

routes = web.RouteTableDef()
MAX_FILTER_CHARS = 100


def _filter_text(request: web.Request, name: str) -> str | None:
    value = text_param(request, name)
    if value is not None and len(value) > MAX_FILTER_CHARS:
        raise BadInput(f"{name}：不能超过 {MAX_FILTER_CHARS} 个字符", extra={"field": name})
    return value


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.Response:
    """One page of audit records, newest first, filtered by target, actor and time (administrators only)."""
    if request[PRINCIPAL].role != "admin":
        raise Forbidden("只有管理员可以查看审计记录")
    wanted = AuditFilter(
        target_type=_filter_text(request, "target_type"), target_id=_filter_text(request, "target_id"),
        actor=_filter_text(request, "actor"), since=since_param(request, "since"),
        page=int_param(request, "page", default=1, low=1, high=10**6),
        per_page=int_param(request, "per_page", default=50, low=1, high=MAX_PAGE_SIZE))
    async with request.app[SESSIONS]() as session:
        return reply(await list_audit(session, wanted))
