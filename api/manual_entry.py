"""A warning entered by hand, read, previewed and accepted by one path: the API's JSON form and the entry page."""

from __future__ import annotations

import json

from aiohttp import web

from fangxun.api.keys import CLOCK, EXPANSION_RUNNER, PRINCIPAL, SESSIONS, SETTINGS, WARNING_SERVICE
from fangxun.warnings.intake.accept import IntakeResult, ingest
from fangxun.warnings.intake.manual_areas import named_areas
from fangxun.warnings.intake.manual_form import parse_manual
from fangxun.warnings.intake.normalised import NormalisedWarning
from fangxun.warnings.intake.preview import preview

# The CAP sender of warnings entered by hand (the person is kept as entered_by).
MANUAL_SENDER = "duty@fangxun"


async def manual_warning(request: web.Request, form: dict) -> NormalisedWarning:
    """The hand-entry form as a warning (BadInput naming the field), its unit-only areas named after their units."""
    warning = parse_manual(form, request.app[CLOCK].now(), MANUAL_SENDER)
    async with request.app[SESSIONS]() as session:
        return await named_areas(session, warning)


async def dry_run(request: web.Request, warning: NormalisedWarning) -> dict:
    """What accepting `warning` would do (its units, who is told, counted per level and department); nothing
    is written."""
    async with request.app[SESSIONS]() as session:
        return {"dry_run": True, **await preview(session, warning, request.app[SETTINGS], request.app[CLOCK].now())}


def handoff_of(request: web.Request):
    """The dispatcher of this process, if it runs one: it takes the new rows straight away."""
    service = request.app.get(WARNING_SERVICE)
    return service.dispatcher if service is not None else None


def expansions_of(request: web.Request):
    """The expansion runner of this process, if it runs one: it writes the rest of a large warning's notifications
    after the answer."""
    service = request.app.get(WARNING_SERVICE)
    return service.expansions if service is not None else request.app.get(EXPANSION_RUNNER)


async def accept_manual(request: web.Request, form: dict, warning: NormalisedWarning) -> IntakeResult:
    """Store the warning entered by hand and its notifications (intake.accept.ingest), by the signed-in caller."""
    return await ingest(request.app[SESSIONS], warning, request.app[SETTINGS], request.app[CLOCK].now(),
                        raw=json.dumps(form, ensure_ascii=False), source="manual",
                        entered_by=request[PRINCIPAL].name, handoff=handoff_of(request),
                        expansions=expansions_of(request))
