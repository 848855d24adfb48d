"""阿里云语音服务's call records (VoiceReport, HTTP batch push): a JSON array posted to the URL set in its console,
/api/callbacks/voice/{channel}/{token}. Alibaba does not sign its pushes, so the secret token in the path is the
credential; key 1 acknowledges the call's notification (叫应 via voice), as with the generic gateway."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from fangxun.api.errors import validation_to_bad_input
from fangxun.api.jsonio import reply
from fangxun.api.keys import CALL_RESULTS, SETTINGS
from fangxun.api.routes_warnings import read_limited
from fangxun.core.errors import BadInput, ConfigError, NotFound, ServiceUnavailable, Unauthorized
from fangxun.warnings.acks.by_call import CallResult
from fangxun.warnings.delivery.channels.aliyun_protocol import (VoiceRecord, is_call_record, parse_records,
                                                                translate)
from fangxun.warnings.delivery.channels.config import AliyunVoiceConfig, Secrets
from fangxun.warnings.delivery.channels.voice_protocol import CALLBACK_PREFIX

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
# A push may hold many records (a few hundred bytes each).
MAX_PUSH_BYTES = 1024 * 1024
# The answer Alibaba's push expects (it checks HTTP 200 and a numeric code; anything else is pushed again).
TAKEN = {"code": 0, "msg": "接收成功"}


def aliyun_channel(request: web.Request) -> tuple[str, AliyunVoiceConfig]:
    """The configured Alibaba Cloud voice channel the path names; NotFound for any other name."""
    name = request.match_info["channel"]
    config = request.app[SETTINGS].warnings.channels.get(name)
    if not isinstance(config, AliyunVoiceConfig):
        raise NotFound("未配置该阿里云语音通知渠道")
    return name, config


def check_token(name: str, config: AliyunVoiceConfig, given: str) -> None:
    """Unauthorized unless `given` is the channel's token (constant-time); 503 when the token is not set."""
    try:
        token = Secrets(name, os.environ).require(config.callback_token_env)
    except ConfigError as exc:
        log.error("aliyun voice report refused: %s", exc.detail)
        raise ServiceUnavailable("语音渠道的回执令牌未配置，暂时无法接收回执") from None
    if not hmac.compare_digest(token.encode(), given.encode("utf-8", "replace")):
        raise Unauthorized("回执地址中的令牌无效")


def read_records(body: bytes) -> list[VoiceRecord]:
    """The pushed records; BadInput naming the field (or saying the body is not a JSON array)."""
    try:
        return parse_records(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise BadInput("请求体不是有效的 JSON") from None
        if any(not error["loc"] for error in errors):
            raise BadInput("请求体应为 JSON 数组") from None
        raise validation_to_bad_input(exc) from None


@routes.post(CALLBACK_PREFIX + "{channel}/{token}")
async def aliyun_voice_report(request: web.Request) -> web.Response:
    """Record each call record once and answer {"code": 0}; intermediate statuses and records of calls we never
    made are answered too (so Alibaba stops pushing them) and recorded nowhere."""
    name, config = aliyun_channel(request)
    check_token(name, config, request.match_info["token"])
    records = read_records(await read_limited(request, MAX_PUSH_BYTES))
    results = []
    for record in records:
        translated = translate(record, config.min_heard_seconds) if is_call_record(record) else None
        if translated is None:
            log.info("aliyun voice %s: record of call %s (status %s) not ours or not final: ignored", name,
                     record.call_id, record.status_code)
            continue
        raw = record.model_dump_json(exclude_none=True)
        results.append(CallResult(name, translated.report, raw, translated.min_heard_seconds))
    answers = await asyncio.gather(*(request.app[CALL_RESULTS].submit(result) for result in results),
                                   return_exceptions=True)
    failed = [answer for answer in answers if isinstance(answer, BaseException)]
    if failed:
        if not all(isinstance(error, SQLAlchemyError) for error in failed):
            raise next(error for error in failed if not isinstance(error, SQLAlchemyError))
        log.error("recording %d aliyun voice records failed", len(results), exc_info=failed[0])
        raise ServiceUnavailable("数据库暂时不可用，回执未记录，请稍后重试")
    for result, answer in zip(results, answers, strict=True):
        if answer is None:
            log.info("aliyun voice %s: OutId %s names no call of this channel: ignored", name, result.report.call_id)
    return reply(TAKEN)
