"""The 叫应 page a recipient opens from a notification: the warning, their name and a 收到 button (no script).

The data is built here; api/templates/ack.html and ack_invalid.html draw it."""

from __future__ import annotations

from fangxun.api.templating import render
from fangxun.warnings.delivery.outbox import ACK_SLOT, compose
from fangxun.warnings.drills.rules import DRILL_NOTE, exercise_payload, marked_title
from fangxun.warnings.queries import WARNING_STATUS_LABELS


def ack_page(notification, warning, token: str, zone: str, just_acknowledged: bool = False) -> str:
    """The page of one notification: the warning (or, for a notice of no warning, its own title and text), whom
    it is for and what they answer for, and the button or the time of 叫应 (an all-clear asks for none). A drill's
    page, and an exercise warning's, opens with 【演练】 and says it is a drill."""
    payload = notification.payload or {}
    title, text = compose(payload, warning.messages or {} if warning is not None else {}, notification.recipient_name)
    drill = exercise_payload(payload) or getattr(warning, "cap_status", None) == "Exercise"
    if warning is None:
        shown = {"colour": "", "event": "", "headline": title, "sender_name": "", "sent": notification.created_at,
                 "onset": None, "expires": None, "status_label": "", "badge": "演练" if drill else "通知",
                 "texts": [_without_link(text.replace(DRILL_NOTE, "").strip())]}
    else:
        headline = warning.headline or title
        shown = {"colour": warning.colour or "", "event": warning.event,
                 "headline": marked_title(headline) if drill else headline,
                 "sender_name": warning.sender_name, "sent": warning.sent, "onset": warning.onset,
                 "expires": warning.expires,
                 "status_label": "" if warning.status == "active"
                 else WARNING_STATUS_LABELS.get(warning.status, warning.status),
                 "badge": "",
                 "texts": [text for text in (warning.description, warning.instruction) if text]}
    return render("ack.html", title="演练叫应确认" if drill else "预警叫应确认", zone=zone, token=token, warning=shown,
                  recipient=notification.recipient_name, duty=payload.get("duty", ""), drill=drill,
                  drill_note=DRILL_NOTE if drill else "",
                  informational=warning is not None and bool(warning.all_clear) and notification.ack_deadline is None,
                  subject=title if warning is not None and title and title != warning.headline else "",
                  acked_at=notification.acked_at, acked_late=bool(notification.acked_late),
                  just_acknowledged=just_acknowledged, deadline=notification.ack_deadline)


def _without_link(text: str) -> str:
    """A notice's text without the line ending in the ack link slot (the page is the link)."""
    return "\n".join(line for line in text.split("\n") if ACK_SLOT not in line or line.replace(ACK_SLOT, "").strip()
                     ).replace(ACK_SLOT, "").rstrip("：:").strip()


def invalid_page(detail: str) -> str:
    """What an unknown, malformed or throttled link shows (nothing about any notification)."""
    return render("ack_invalid.html", title="确认链接无效", detail=detail)
