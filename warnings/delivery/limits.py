"""Provider limits made visible (pure): when a channel's rate holds messages back, how many and until when."""

from __future__ import annotations

from datetime import datetime, timedelta

KIND_LABELS = {"webhook": "Webhook", "wecom": "企业微信机器人", "dingtalk": "钉钉机器人", "sms": "短信网关",
               "email": "邮件", "record": "记录文件", "voice": "语音网关", "aliyun_voice": "阿里云语音服务"}
# A backlog the rate lets out within this many seconds is not "held back": it is just being sent.
HELD_SECONDS = 10.0


# Starts the last error of a message held because the provider blocked its channel (found again by the board).
BLOCKED_MARK = "渠道被平台暂停："


def blocked_detail(detail: str) -> str:
    """The error kept on a message the provider's block holds back."""
    return detail if detail.startswith(BLOCKED_MARK) else BLOCKED_MARK + detail


def blocked(channel: str, kind: str, waiting: int, until: datetime | None) -> dict | None:
    """The board's line of a channel the provider blocked (a DingTalk robot that sent too fast): how many wait and
    when sending resumes; None when nothing waits."""
    if waiting <= 0 or until is None:
        return None
    return {"channel": channel, "kind": kind, "kind_label": KIND_LABELS.get(kind, kind), "waiting": waiting,
            "blocked": True, "until": until.isoformat()}


def held_back(channel: str, kind: str, rate_per_second: float | None, waiting: int, oldest_due: datetime | None,
              now: datetime) -> dict | None:
    """The board's line of a rate-limited channel with `waiting` messages due and unsent, or None when its rate
    holds nothing back; `until` is when the last of them goes at the configured rate."""
    if rate_per_second is None or waiting <= 0:
        return None
    seconds = waiting / rate_per_second
    if seconds < HELD_SECONDS:
        return None
    return {"channel": channel, "kind": kind, "kind_label": KIND_LABELS.get(kind, kind), "waiting": waiting,
            "per_minute": round(rate_per_second * 60, 1), "oldest_due": None if oldest_due is None else
            oldest_due.isoformat(), "until": (now + timedelta(seconds=seconds)).isoformat()}
