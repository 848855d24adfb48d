"""Plans: listing, detail, creation, update, review and withdrawal; each write is one transaction."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator

from fangxun.api.jsonio import json_object, parse_body, reply
from fangxun.api.keys import CLOCK, PRINCIPAL, SESSIONS, SETTINGS
from fangxun.api.params import check_code, date_param, int_param, path_id, text_param
from fangxun.core.errors import BadInput
from fangxun.plans.plan_fields import ContactFields, PlanFields, parse_date
from fangxun.plans.plan_queries import MAX_PAGE_SIZE, PlanFilter, list_plans, plan_detail
from fangxun.plans.plan_writes import create_plan, record_review, update_plan, withdraw_plan

routes = web.RouteTableDef()


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactList(_Body):
    """The optional `contacts` of a plan body."""

    contacts: list[ContactFields]


class ReviewBody(_Body):
    """A review (评估) or revision (修订) of a plan."""

    reviewed_on: date
    summary: str = Field("", max_length=2000)
    revised: bool = False
    version: str | None = Field(None, min_length=1, max_length=20)

    @field_validator("reviewed_on", mode="before")
    @classmethod
    def _date(cls, value: object) -> date | None:
        return parse_date(value)


class WithdrawBody(_Body):
    """The withdrawal (废止) of a plan."""

    withdrawn_on: date
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("withdrawn_on", mode="before")
    @classmethod
    def _date(cls, value: object) -> date | None:
        return parse_date(value)


def _contacts(data: dict) -> list[ContactFields] | None:
    """Pops and validates `contacts` from a body; None when absent."""
    if "contacts" not in data:
        return None
    return parse_body(ContactList, {"contacts": data.pop("contacts")}).contacts


def _context(request: web.Request):
    return request.app[SESSIONS], request.app[SETTINGS].registry, request.app[CLOCK].today(), request[PRINCIPAL].name


@routes.get("/api/plans")
async def plans(request: web.Request) -> web.Response:
    """One page of plans filtered by subtree, kind, status, level and review due date."""
    wanted = PlanFilter(
        root=check_code(text_param(request, "root"), "root"), kind=text_param(request, "kind"),
        status=text_param(request, "status"), level=text_param(request, "level"),
        due_before=date_param(request, "due_before"),
        page=int_param(request, "page", default=1, low=1, high=10**6),
        per_page=int_param(request, "per_page", default=50, low=1, high=MAX_PAGE_SIZE))
    sessions, registry, today, _ = _context(request)
    async with sessions() as session:
        return reply(await list_plans(session, wanted, registry, today))


@routes.get("/api/plans/{id}")
async def plan(request: web.Request) -> web.Response:
    """One plan with unit, history, contacts and shelters."""
    sessions, registry, today, _ = _context(request)
    async with sessions() as session:
        return reply(await plan_detail(session, path_id(request), registry, today))


@routes.post("/api/plans")
async def create(request: web.Request) -> web.Response:
    """Register a plan (and its responsible persons)."""
    data = await json_object(request)
    contacts = _contacts(data) or []
    fields = parse_body(PlanFields, data)
    sessions, registry, today, actor = _context(request)
    async with sessions() as session, session.begin():
        created = await create_plan(session, fields, registry, actor, today, contacts=contacts)
        return reply(await plan_detail(session, created.id, registry, today), status=201)


@routes.patch("/api/plans/{id}")
async def update(request: web.Request) -> web.Response:
    """Change some fields of a plan; `contacts`, when given, replaces its responsible persons."""
    plan_id = path_id(request)
    data = await json_object(request)
    contacts = _contacts(data)
    if not data and contacts is None:
        raise BadInput("请求体中没有要修改的字段")
    sessions, registry, today, actor = _context(request)
    async with sessions() as session, session.begin():
        await update_plan(session, plan_id, data, registry, actor, contacts=contacts)
        return reply(await plan_detail(session, plan_id, registry, today))


@routes.post("/api/plans/{id}/reviews")
async def review(request: web.Request) -> web.Response:
    """Record a review or revision; the review clock restarts."""
    plan_id = path_id(request)
    body = parse_body(ReviewBody, await json_object(request))
    sessions, registry, today, actor = _context(request)
    async with sessions() as session, session.begin():
        await record_review(session, plan_id, body.reviewed_on, body.summary, actor, today,
                            revised=body.revised, version=body.version)
        return reply(await plan_detail(session, plan_id, registry, today), status=201)


@routes.post("/api/plans/{id}/withdraw")
async def withdraw(request: web.Request) -> web.Response:
    """Withdraw (废止) a plan; it stays with its history."""
    plan_id = path_id(request)
    body = parse_body(WithdrawBody, await json_object(request))
    sessions, registry, today, actor = _context(request)
    if body.withdrawn_on > today:
        raise BadInput(f"withdrawn_on：废止日期 {body.withdrawn_on} 晚于今天", extra={"field": "withdrawn_on"})
    async with sessions() as session, session.begin():
        await withdraw_plan(session, plan_id, body.withdrawn_on, body.reason, actor)
        return reply(await plan_detail(session, plan_id, registry, today))
