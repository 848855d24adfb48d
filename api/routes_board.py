"""The duty board (值班看板): one warning thread at a time, its timeline, its recipients grouped by place with counts,
filtered and paged on the server; refreshed by our own script."""

from __future__ import annotations

from aiohttp import web

from fangxun.api import pages as templates
from fangxun.api.csp import inline_hashes
from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import int_param, path_id, text_param
from fangxun.api.templating import render
from fangxun.warnings.board_groups import group_counts, recipient_page
from fangxun.warnings.board_rows import BoardRows
from fangxun.warnings.board_rules import MAX_PER_PAGE, PER_PAGE, BoardFilter, focus_message, parse_group, parse_scope
from fangxun.warnings.board_threads import board_threads, thread_board, thread_messages

routes = web.RouteTableDef()
POLL_MILLISECONDS = 5000
RECENT_HOURS = 24


def board_policy(html: str) -> str:
    """Our own script, styles and JSON only; the page frame's inline style by its hash."""
    styles = " ".join(inline_hashes(html, "style"))
    return ("default-src 'none'; script-src 'self'; "
            f"style-src 'self' {styles}; connect-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def board_page(user: str, zone: str) -> str:
    """The page shell; board.js fills it from /api/board/threads and the chosen thread's groups."""
    return render("board.html", title="值班看板", user=user, zone=zone, poll_ms=POLL_MILLISECONDS)


def _no_store(data: dict) -> web.Response:
    response = reply(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def _filter(request: web.Request) -> BoardFilter:
    """The filters of a query: filter, level, department, q."""
    return BoardFilter(state=text_param(request, "filter"), level=text_param(request, "level"),
                       department=text_param(request, "department"), query=text_param(request, "q")).check()


async def _scoped(request: web.Request, session) -> tuple[int, str, BoardRows]:
    """The thread of the path's message id, the messages the query covers (`message`: all, an id, or the thread's
    focus) and their rows."""
    messages = await thread_messages(session, path_id(request))
    ids = [message.id for message in messages]
    focus = focus_message([(message.id, bool(message.all_clear)) for message in messages])
    scope, covered = parse_scope(text_param(request, "message"), ids, focus)
    return messages[0].thread_id or messages[0].id, scope, BoardRows(covered, request.app[CLOCK].now())


@routes.get("/board")
async def board_route(request: web.Request) -> web.Response:
    """Signed-in users: the live duty board."""
    user = request[PRINCIPAL].name.removeprefix("user:")
    html = board_page(user, request.app[SETTINGS].registry.timezone)
    return templates.html_response(html, headers={"Content-Security-Policy": board_policy(html)})


@routes.get("/api/board/threads")
async def threads_data(request: web.Request) -> web.Response:
    """Threads in force and those ended in the last `hours` with their counts; what the rate holds back; the SMS
    replies tied to no warning."""
    hours = int_param(request, "hours", default=RECENT_HOURS, low=1, high=24 * 7)
    async with request.app[SESSIONS]() as session:
        data = await board_threads(session, request.app[CLOCK].now(), recent_hours=hours,
                                   channels=request.app[SETTINGS].warnings.channels)
    return _no_store(data)


@routes.get("/api/board/threads/{id}")
async def thread_data(request: web.Request) -> web.Response:
    """The thread of a message (any of its messages' ids): its timeline with each message's counts."""
    departments = {key: department.name for key, department in request.app[SETTINGS].warnings.departments.items()}
    async with request.app[SESSIONS]() as session:
        data = await thread_board(session, path_id(request), request.app[CLOCK].now(), departments)
    return _no_store(data)


@routes.get("/api/board/threads/{id}/groups")
async def groups_data(request: web.Request) -> web.Response:
    """The groups below `parent` (none: desks and districts) with the counts of the rows matching the filters."""
    wanted = _filter(request)
    parent = parse_group(text_param(request, "parent"), "parent")
    async with request.app[SESSIONS]() as session:
        thread_id, scope, rows = await _scoped(request, session)
        groups = await group_counts(session, rows, wanted, parent)
    return _no_store({"thread_id": thread_id, "message": scope, "parent": parent.text if parent else None,
                      "filtered": wanted.narrows, "groups": groups})


@routes.get("/api/board/threads/{id}/recipients")
async def recipients_data(request: web.Request) -> web.Response:
    """One page of the recipients of `group` (none: all) matching the filters, most urgent first."""
    wanted = _filter(request)
    group = parse_group(text_param(request, "group"))
    page = int_param(request, "page", default=1, low=1, high=100_000)
    per_page = int_param(request, "per_page", default=PER_PAGE, low=1, high=MAX_PER_PAGE)
    async with request.app[SESSIONS]() as session:
        thread_id, scope, rows = await _scoped(request, session)
        data = await recipient_page(session, rows, request.app[CLOCK].now(), wanted, group, page, per_page)
    return _no_store({"thread_id": thread_id, "message": scope, **data})
