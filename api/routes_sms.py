"""The SMS gateway's callback: inbound messages (上行短信) posted to /api/callbacks/sms/{channel}, signed with the
channel's callback secret (the signature is the credential: the path is public, see auth.is_public)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from aiohttp import web

from fangxun.api.jsonio import reply
from fangxun.api.keys import CLOCK, SESSIONS, SETTINGS
from fangxun.core.errors import FangxunError, NotFound, PayloadTooLarge, Unauthorized
from fangxun.settings import Settings
from fangxun.warnings.acks.inbound_sms import parse_inbound
from fangxun.warnings.acks.sms_replies import receive_reply
from fangxun.warnings.delivery.channels.signing import verify_body_signature

log = logging.getLogger("fangxun.api.sms")
routes = web.RouteTableDef()
CALLBACK_PATH = "/api/callbacks/sms/{channel}"
SIGNATURE_HEADER = "X-Fangxun-Signature"
# An inbound SMS is a few hundred bytes; a gateway never needs more than this.
MAX_CALLBACK_BYTES = 16 * 1024


class CallbackNotConfigured(FangxunError):
    """The channel takes replies but its secret is missing from the environment: nothing can be verified."""

    status = 503
    code = "callback_not_configured"


def callback_secret(settings: Settings, channel: str, environ: Mapping[str, str]) -> str:
    """The callback secret of SMS channel `channel`; NotFound when no SMS channel of that name takes replies."""
    config = settings.warnings.channels.get(channel)
    if config is None or config.kind != "sms" or config.callback_secret_env is None:
        raise NotFound("未知的短信渠道，或该渠道未配置上行短信回调（callback_secret_env）")
    secret = environ.get(config.callback_secret_env, "").strip()
    if not secret:
        # The variable's name goes to the log only: the caller is not authenticated yet.
        log.error("SMS channel %r: callback secret variable %s is not set", channel, config.callback_secret_env)
        raise CallbackNotConfigured("该短信渠道的回调密钥未设置，暂不能接收上行短信")
    return secret


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is longer than `limit` bytes."""
    too_large = PayloadTooLarge(f"请求体超过 {limit} 字节")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = bytearray()
    while chunk := await request.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@routes.post(CALLBACK_PATH)
async def sms_callback(request: web.Request) -> web.Response:
    """One inbound message `{"from", "text", "received_at"}`: 401 unsigned or badly signed, 404 unknown channel,
    400 naming a bad field (nothing kept in each case); 200 once kept (the same message again: kept once)."""
    channel = request.match_info["channel"]
    secret = callback_secret(request.app[SETTINGS], channel, os.environ)
    body = await read_limited(request, MAX_CALLBACK_BYTES)
    if not verify_body_signature(secret, body, request.headers.get(SIGNATURE_HEADER)):
        raise Unauthorized(f"签名无效：{SIGNATURE_HEADER} 应为 sha256=<请求体的 HMAC-SHA256>")
    inbound = parse_inbound(body)
    outcome = await receive_reply(request.app[SESSIONS], channel, inbound, request.app[CLOCK].now())
    return reply({"recorded": not outcome.duplicate, "duplicate": outcome.duplicate, "reply_id": outcome.reply_id,
                  "kind": "ack" if outcome.is_ack else "report", "acknowledged": outcome.acknowledged,
                  "known": outcome.known})
