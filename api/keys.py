"""Typed keys of the resources the application and each request carry."""

from __future__ import annotations

from concurrent.futures import Executor

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from fangxun.api.login_limit import FailureThrottle
from fangxun.core.accounts import Principal
from fangxun.core.batches import Batcher
from fangxun.core.clock import Clock
from fangxun.core.public_base import PublicBase
from fangxun.settings import Settings
from fangxun.warnings.intake.expansion_runner import ExpansionRunner
from fangxun.warnings.service import WarningService

ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker)
SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
SIGNING_KEY = web.AppKey("signing_key", bytes)
# Failed sign-ins per user name and client address, and per address.
LOGIN_LIMITER = web.AppKey("login_limiter", FailureThrottle)
# Wrong 叫应 links per client address and per token prefix (guessing tokens).
ACK_LIMITER = web.AppKey("ack_limiter", FailureThrottle)
PASSWORD_EXECUTOR = web.AppKey("password_executor", Executor)
# Where the links the service hands out point: 叫应 links in messages, the CAP feed (core/public_base.py).
PUBLIC_BASE = web.AppKey("public_base", PublicBase)
# Voice gateway results, recorded a batch per transaction (routes_voice.py).
CALL_RESULTS = web.AppKey("call_results", Batcher)
# Set only when the app runs the dispatcher and scheduler itself (create_app(dispatch=True)).
WARNING_SERVICE = web.AppKey("warning_service", WarningService)
# The expansion runner of a web process without a dispatcher (`serve --no-dispatch`); with one, the service's.
EXPANSION_RUNNER = web.AppKey("expansion_runner", ExpansionRunner)

PRINCIPAL = web.RequestKey("principal", Principal)
# How the principal was established: "token" or "cookie" (cookie writes need the CSRF header).
AUTH_METHOD = web.RequestKey("auth_method", str)
