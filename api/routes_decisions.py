"""Response levels: the proposal for an event and the decisions recorded against it."""

from __future__ import annotations

from aiohttp import web

from fangxun.api.jsonio import json_object, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import path_id
from fangxun.core.errors import BadInput, NotFound
from fangxun.warnings.events.decision_queries import decision_view, decision_views
from fangxun.warnings.events.decisions import DECISION_FIELDS, decide
from fangxun.warnings.events.response_metrics import current_proposal
from fangxun.warnings.events.tables import Event
from fangxun.warnings.queries import state_counts

routes = web.RouteTableDef()


async def _event(session, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound(f"事件 {event_id} 不存在")
    return event


@routes.get("/api/events/{id}/proposal")
async def get_proposal(request: web.Request) -> web.Response:
    """The level the rules propose now for the event's active warnings, with each department's actions."""
    event_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        await _event(session, event_id)
        proposal = await current_proposal(session, request.app[SETTINGS], event_id, request.app[CLOCK].now())
    return reply({"event_id": event_id, "proposal": proposal.as_json() if proposal else None})


@routes.get("/api/events/{id}/decisions")
async def get_decisions(request: web.Request) -> web.Response:
    """The event's decisions, oldest first, with time to decision and the notice's 叫应 counts."""
    event_id = path_id(request)
    async with request.app[SESSIONS]() as session:
        await _event(session, event_id)
        items = await decision_views(session, event_id, request.app[CLOCK].now())
    return reply({"event_id": event_id, "decisions": items})


@routes.post("/api/events/{id}/decisions")
async def post_decision(request: web.Request) -> web.Response:
    """Record activation, upgrade, downgrade or termination; 201 once the decision and its notices are stored."""
    event_id = path_id(request)
    body = await json_object(request)
    unknown = sorted(set(body) - set(DECISION_FIELDS))
    if unknown:
        raise BadInput(f"{unknown[0]}：未知字段（可用 {'、'.join(DECISION_FIELDS)}）", extra={"field": unknown[0]})
    settings, now = request.app[SETTINGS], request.app[CLOCK].now()
    async with request.app[SESSIONS]() as session:
        async with session.begin():
            decision = await decide(session, settings, event_id, body, principal=request[PRINCIPAL], now=now)
        counts = await state_counts(session, [decision.notice_warning_id], now)
        view = decision_view(decision, counts[decision.notice_warning_id])
    response = reply(view, status=201)
    response.headers["Location"] = f"/api/events/{event_id}/decisions"
    return response
