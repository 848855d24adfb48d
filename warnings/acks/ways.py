"""How a 叫应 was given (link, key press, SMS reply) and what became of a call, in words (pure)."""

from __future__ import annotations

# acked_via as stored -> the way it counts as: the ack page and the API are both the link.
WAYS = {"page": "link", "api": "link", "link": "link", "voice": "voice", "sms": "sms"}
WAY_LABELS = {"link": "链接", "voice": "语音按键", "sms": "短信回复", "other": "其他"}
WAY_ORDER = ("link", "voice", "sms", "other")
CALL_STATUS_LABELS = {"requested": "呼叫中", "answered": "已接听", "no_answer": "无人接听", "busy": "占线",
                      "rejected": "拒接", "failed": "呼叫失败", "hung_up_early": "提前挂机"}
# A call's status -> the report's outcome: answered, not answered (nobody took it), hung up early, failed.
CALL_OUTCOMES = {"answered": "answered", "no_answer": "not_answered", "busy": "not_answered",
                 "rejected": "not_answered", "hung_up_early": "hung_up_early", "failed": "failed",
                 "requested": "no_result"}
CALL_OUTCOME_ORDER = ("answered", "not_answered", "hung_up_early", "failed", "no_result")


def ack_way(via: str | None) -> str | None:
    """The way of an acked_via value (None when not acknowledged)."""
    if via is None:
        return None
    return WAYS.get(via, "other")


def redials(calls: int) -> int:
    """Calls after the first."""
    return max(0, calls - 1)
