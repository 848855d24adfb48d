"""Voice gateway callbacks: a call's result, signed with the channel's secret (no account: the signature is
the credential). Key 1 acknowledges the call's notification (叫应 via voice)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from fangxun.api.errors import validation_to_bad_input
from fangxun.api.jsonio import reply
from fangxun.api.keys import CALL_RESULTS, CLOCK, SESSIONS, SETTINGS
from fangxun.api.routes_warnings import read_limited
from fangxun.core.batches import Batcher
from fangxun.core.errors import BadInput, ConfigError, NotFound, ServiceUnavailable, Unauthorized
from fangxun.warnings.acks.by_call import CallResult, answer_calls
from fangxun.warnings.delivery.channels.config import Secrets, VoiceConfig
from fangxun.warnings.delivery.channels.signing import verify_body_signature
from fangxun.warnings.delivery.channels.voice_protocol import (CALLBACK_ROUTE, SIGNATURE_HEADER, CallReport,
                                                               parse_report)

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
# A result is a few hundred bytes; anything near this is not a gateway talking.
MAX_CALLBACK_BYTES = 16 * 1024


async def call_results(app: web.Application) -> AsyncIterator[None]:
    """The application's recorder of call results: whatever arrives while one transaction runs goes into the
    next (a thousand results a second are a few transactions, not a thousand)."""
    sessions, clock = app[SESSIONS], app[CLOCK]

    async def record(results: list[CallResult]) -> list:
        async with sessions() as session, session.begin():
            return await answer_calls(session, results, clock.now())

    app[CALL_RESULTS] = recorder = Batcher(record)
    yield
    await recorder.close()


def voice_channel(request: web.Request) -> tuple[str, VoiceConfig]:
    """The configured voice channel the path names; NotFound for any other name."""
    name = request.match_info["channel"]
    config = request.app[SETTINGS].warnings.channels.get(name)
    if not isinstance(config, VoiceConfig):
        raise NotFound("未配置该语音通知渠道")
    return name, config


def channel_secret(name: str, config: VoiceConfig) -> str:
    """The channel's secret from the environment; without it nothing can be verified (503: try later)."""
    try:
        return Secrets(name, os.environ).require(config.secret_env)
    except ConfigError as exc:
        log.error("voice callback refused: %s", exc.detail)
        raise ServiceUnavailable("语音渠道的签名密钥未配置，暂时无法接收回执") from None


def read_report(body: bytes) -> CallReport:
    """The result in `body`; BadInput naming the field (or saying the body is not a JSON object)."""
    try:
        return parse_report(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise BadInput("请求体不是有效的 JSON") from None
        if any(not error["loc"] for error in errors):
            raise BadInput("请求体应为 JSON 对象") from None
        raise validation_to_bad_input(exc) from None


@routes.post(CALLBACK_ROUTE)
async def voice_callback(request: web.Request) -> web.Response:
    """Record a call's result once (a repeated callback: 200, nothing more); 401 unsigned, 404 unknown call."""
    name, config = voice_channel(request)
    secret = channel_secret(name, config)
    body = await read_limited(request, MAX_CALLBACK_BYTES)
    if not verify_body_signature(secret, body, request.headers.get(SIGNATURE_HEADER)):
        raise Unauthorized(f"签名无效或缺失（{SIGNATURE_HEADER}: sha256=<请求体的 HMAC-SHA256>）")
    report = read_report(body)
    result = CallResult(name, report, body.decode("utf-8", "replace"), config.min_heard_seconds)
    try:
        answer = await request.app[CALL_RESULTS].submit(result)
    except SQLAlchemyError:
        log.exception("recording the result of call %s failed", report.call_id)
        raise ServiceUnavailable("数据库暂时不可用，回执未记录，请稍后重试") from None
    if answer is None:
        raise NotFound(f"未知的呼叫 {report.call_id}", extra={"field": "call_id"})
    return reply({"call_id": report.call_id, "recorded": answer.recorded, "duplicate": not answer.recorded,
                  "status": answer.status, "acknowledged": answer.acknowledged})
