"""Helpers of the warning API, page and feed tests: CAP documents around the suite's clock, posting, counting."""

from __future__ import annotations

from sqlalchemy import func, select
from support.api_fixtures import bearer
from support.cap_samples import ZZ_IDENTIFIER, ZZ_SENDER, alert, zhengzhou_rainstorm

from fangxun.warnings.tables import Notification, Warning

# Five minutes before the suite's clock (2026-06-01 10:00 Shanghai), valid for a day.
SENT = "2026-06-01T09:55:00+08:00"
EXPIRES = "2026-06-02T09:55:00+08:00"
CAP_XML = "application/cap+xml"


def zz(colour: str = "red", msg_type: str = "Alert", identifier: str = ZZ_IDENTIFIER, sent: str = SENT,
       references: tuple[tuple[str, str, str], ...] = (), expires: str | None = EXPIRES, **shapes) -> bytes:
    """The Zhengzhou rainstorm sample, current at the suite's clock (`shapes`: its polygon and geocodes)."""
    return zhengzhou_rainstorm(colour, msg_type, identifier, sent, references, expires, **shapes)


def lenient_only() -> bytes:
    """Schema-invalid (urgency "Soon") but readable leniently: its stored original does not validate."""
    return alert("""<info><language>zh-CN</language><category>Met</category><event>暴雨橙色预警信号</event>
        <urgency>Soon</urgency><severity>Severe</severity><certainty>Likely</certainty>
        <expires>2026-06-02T06:00:00+08:00</expires><headline>郑州市气象台发布暴雨橙色预警信号</headline>
        <area><areaDesc>甲区</areaDesc><geocode><valueName>ADCODE</valueName><value>410102</value></geocode></area>
        </info>""")


def chain() -> list[bytes]:
    """An orange Alert, its upgrade to red (Update) and the 解除 (Cancel) of both."""
    alert_id, update_id, cancel_id = (f"{ZZ_SENDER}_2026060109{minute}00_0" for minute in ("55", "58", "59"))
    alert_sent, update_sent, cancel_sent = (f"2026-06-01T09:{minute}:00+08:00" for minute in ("55", "58", "59"))
    return [
        zz("orange", identifier=alert_id, sent=alert_sent),
        zz("red", "Update", identifier=update_id, sent=update_sent,
           references=((ZZ_SENDER, alert_id, alert_sent),)),
        zz("red", "Cancel", identifier=cancel_id, sent=cancel_sent,
           references=((ZZ_SENDER, alert_id, alert_sent), (ZZ_SENDER, update_id, update_sent))),
    ]


async def post_cap(client, body: bytes, token: str, content_type: str = CAP_XML, **params):
    """POST a CAP document to /api/warnings with an API token."""
    return await client.post("/api/warnings", data=body, params=params,
                             headers={**bearer(token), "Content-Type": content_type})


def manual_form(**changes) -> dict:
    """A hand-entered red rainstorm warning over 甲区, valid for six hours from the suite's clock."""
    form = {"event": "暴雨", "colour": "红", "areas": {"unit_codes": ["410102000000"], "description": "甲区"},
            "onset": "2026-06-01T10:00:00+08:00", "expires": "2026-06-01T16:00:00+08:00",
            "description": "甲区未来3小时降雨量将达100毫米以上。", "instruction": "立即转移低洼地带人员。"}
    form.update(changes)
    return form


async def stored(sessions) -> tuple[int, int]:
    """(warnings, notifications) held."""
    async with sessions() as session:
        warnings = (await session.execute(select(func.count()).select_from(Warning))).scalar_one()
        notifications = (await session.execute(select(func.count()).select_from(Notification))).scalar_one()
    return warnings, notifications
