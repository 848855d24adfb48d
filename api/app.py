"""The aiohttp application factory: resources, middlewares and routes."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from fangxun.api import (routes_absences, routes_ack, routes_aliyun_voice, routes_assign, routes_audit, routes_board,
                         routes_cap, routes_contacts, routes_decisions, routes_drills, routes_duty, routes_event_page,
                         routes_events, routes_journal, routes_map, routes_metrics, routes_openapi, routes_pages,
                         routes_plans, routes_reports, routes_shelters, routes_sms, routes_sms_replies, routes_status,
                         routes_units, routes_voice, routes_warning_entry, routes_warnings)
from fangxun.api.auth import auth_middleware
from fangxun.api.errors import error_middleware
from fangxun.api.input_guard import input_middleware
from fangxun.api.keys import (ACK_LIMITER, AUTH_METHOD, CLOCK, ENGINE, EXPANSION_RUNNER, LOGIN_LIMITER,
                              PASSWORD_EXECUTOR, PRINCIPAL, PUBLIC_BASE, SESSIONS, SETTINGS, SIGNING_KEY,
                              WARNING_SERVICE)
from fangxun.api.login_limit import sign_in_throttle
from fangxun.api.request_ids import answer_request_id, request_id_middleware
from fangxun.api.static_files import add_static
from fangxun.core.accounts import signing_secret
from fangxun.core.clock import Clock
from fangxun.core.db import session_factory
from fangxun.core.loop_lag import watching_loop_lag
from fangxun.core.public_base import PublicBase, public_base
from fangxun.geo.map_assets import LEAFLET_URL, STATIC_URL, leaflet_dir, static_dir
from fangxun.plans.map_view import warm_map_layers
from fangxun.settings import Settings
from fangxun.warnings.intake.expansion_runner import ExpansionRunner
from fangxun.warnings.service import WarningService, worker_name

__all__ = ["create_app", "ENGINE", "SESSIONS", "SETTINGS", "CLOCK", "SIGNING_KEY", "LOGIN_LIMITER",
           "ACK_LIMITER", "PASSWORD_EXECUTOR", "WARNING_SERVICE", "PUBLIC_BASE", "PRINCIPAL", "AUTH_METHOD"]

MAX_BODY_BYTES = 1024 * 1024
# Two password hashes at a time (argon2id, 64 MiB each) at most, whatever the number of sign-in attempts.
PASSWORD_THREADS = 2
logger = logging.getLogger(__name__)


async def signing_key_context(app: web.Application) -> AsyncIterator[None]:
    """Load (or on a fresh database create) the session signing secret once."""
    try:
        async with app[SESSIONS]() as session, session.begin():
            app[SIGNING_KEY] = await signing_secret(session)
    except IntegrityError:
        # Another process created it at the same moment; read theirs.
        async with app[SESSIONS]() as session, session.begin():
            app[SIGNING_KEY] = await signing_secret(session)
    yield


async def _password_executor(app: web.Application) -> AsyncIterator[None]:
    """A small thread pool for password hashing so sign-ins never block the event loop."""
    executor = ThreadPoolExecutor(max_workers=PASSWORD_THREADS, thread_name_prefix="fangxun-password")
    app[PASSWORD_EXECUTOR] = executor
    yield
    executor.shutdown(wait=False, cancel_futures=True)


async def _warning_service(app: web.Application) -> AsyncIterator[None]:
    """The dispatcher and scheduler, running as long as the web application does."""
    async with WarningService(app[SESSIONS], app[SETTINGS], app[CLOCK], worker_id=worker_name("web"),
                              ack_base_url=app[PUBLIC_BASE].url) as service:
        app[WARNING_SERVICE] = service
        yield


async def _expansion_runner(app: web.Application) -> AsyncIterator[None]:
    """A web process without a dispatcher still answers a large warning once its desks' chunk commits: this runner
    writes the rest after the answer (the dispatch processes send the rows as they commit); stopped, it gives up
    what is unfinished to the dispatch processes' pick-up."""
    runner = ExpansionRunner(app[SESSIONS], app[SETTINGS], app[CLOCK], worker_name("web"))
    app[EXPANSION_RUNNER] = runner
    yield
    await runner.stop()


async def _loop_lag(app: web.Application) -> AsyncIterator[None]:
    """The event-loop lag gauge of /metrics, sampled while the application runs."""
    async with watching_loop_lag():
        yield


async def _warm_map(app: web.Application) -> AsyncIterator[None]:
    """The paged map's layers built in the background as the service starts."""
    async def warm() -> None:
        try:
            async with app[SESSIONS]() as session:
                await warm_map_layers(session)
            # What the service holds from here on (modules, the layers' unit facts: hundreds of thousands of
            # objects) is left out of the collector's full passes, each of which held the loop 100-400 ms.
            gc.freeze()
        except Exception:  # noqa: BLE001 - a cold cache only makes the first map request slower
            logger.exception("map layers not built ahead")
    task = asyncio.create_task(warm(), name="fangxun-warm-map")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _common_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")


def create_app(engine: AsyncEngine, settings: Settings, clock: Clock | None = None, *,
               dispatch: bool = False, expand: bool = False, base: PublicBase | None = None,
               warm_map: bool = False) -> web.Application:
    """The web application over `engine`; the caller keeps ownership of the engine (it is not disposed).

    `dispatch` also runs the warning dispatcher and scheduler in this process (`fangxun serve` does); without it,
    `expand` runs an expansion runner, so a large warning is answered before all its rows are written (`fangxun serve
    --no-dispatch` does; without either, the intake writes every row before answering). `base` is
    where its links point (`serve` decides it from the address it listens on); by default the configured one.
    `warm_map` builds the map's layers in the background at start (`serve` does).
    """
    clock = clock or Clock(zone=settings.registry.timezone)
    app = web.Application(middlewares=[request_id_middleware, error_middleware, auth_middleware, input_middleware],
                          client_max_size=MAX_BODY_BYTES)
    app[ENGINE] = engine
    app[SESSIONS] = session_factory(engine)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[PUBLIC_BASE] = base or public_base(settings.server)
    auth = settings.auth
    app[LOGIN_LIMITER] = sign_in_throttle(auth.login_free_failures, auth.login_first_delay_seconds,
                                          auth.login_max_delay_seconds, auth.address_free_failures,
                                          auth.address_max_delay_seconds, now=lambda: clock.now().timestamp())
    app[ACK_LIMITER] = routes_ack.ack_limiter(clock)
    app.cleanup_ctx.append(signing_key_context)
    app.cleanup_ctx.append(_password_executor)
    app.cleanup_ctx.append(routes_voice.call_results)
    app.cleanup_ctx.append(_loop_lag)
    if dispatch:
        app.cleanup_ctx.append(_warning_service)
    elif expand:
        app.cleanup_ctx.append(_expansion_runner)
    if warm_map:
        app.cleanup_ctx.append(_warm_map)
    app.on_response_prepare.append(_common_headers)
    app.on_response_prepare.append(answer_request_id)
    for module in (routes_status, routes_metrics, routes_units, routes_plans, routes_absences, routes_pages, routes_map,
                   routes_warnings, routes_ack, routes_board, routes_cap, routes_events, routes_decisions,
                   routes_drills, routes_journal, routes_event_page, routes_reports, routes_assign, routes_sms,
                   routes_sms_replies, routes_voice, routes_aliyun_voice, routes_warning_entry, routes_duty,
                   routes_contacts, routes_shelters, routes_audit, routes_openapi):
        app.add_routes(module.routes)
    # Leaflet from its wheel and our own scripts: the pages load nothing from outside the service.
    add_static(app, LEAFLET_URL.rstrip("/"), Path(str(leaflet_dir())))
    add_static(app, STATIC_URL.rstrip("/"), Path(str(static_dir())))
    return app
