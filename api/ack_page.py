"""The 叫应 page a recipient opens from a notification: the warning, their name and a 收到 button (no script).

The data is built here; api/templates/ack.html and ack_invalid.html draw it."""

from __future__ import annotations

from fangxun.api.templating import render
from fangxun.warnings.delivery.outbox import compose
from fangxun.warnings.queries import WARNING_STATUS_LABELS


def ack_page(notification, warning, token: str, zone: str, just_acknowledged: bool = False) -> str:
    """The page of one notification: the warning, whom it is for and what they answer for, and the button or
    the time of 叫应 (an all-clear asks for none)."""
    title, _ = compose(notification.payload or {}, warning.messages or {}, notification.recipient_name)
    shown = {"colour": warning.colour or "", "event": warning.event, "headline": warning.headline or title,
             "sender_name": warning.sender_name, "sent": warning.sent, "onset": warning.onset,
             "expires": warning.expires,
             "status_label": "" if warning.status == "active"
             else WARNING_STATUS_LABELS.get(warning.status, warning.status),
             "texts": [text for text in (warning.description, warning.instruction) if text]}
    payload = notification.payload or {}
    return render("ack.html", title="预警叫应确认", zone=zone, token=token, warning=shown,
                  recipient=notification.recipient_name, duty=payload.get("duty", ""),
                  informational=bool(warning.all_clear) and notification.ack_deadline is None,
                  subject=title if title and title != warning.headline else "",
                  acked_at=notification.acked_at, acked_late=bool(notification.acked_late),
                  just_acknowledged=just_acknowledged, deadline=notification.ack_deadline)


def invalid_page(detail: str) -> str:
    """What an unknown, malformed or throttled link shows (nothing about any notification)."""
    return render("ack_invalid.html", title="确认链接无效", detail=detail)
