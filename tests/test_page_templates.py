"""Every page and report template, filled with hostile text everywhere a user or a feed can put text: nothing
comes out as markup, and the quotes and ampersands come out as entities."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from fangxun.api import pages
from fangxun.api.ack_page import ack_page, invalid_page
from fangxun.api.event_page import decision_form, event_page, events_list_page, journal_form_page
from fangxun.api.routes_assign import assign_page
from fangxun.api.routes_board import board_page
from fangxun.api.routes_warning_entry import TEXT_FIELDS, entry_page
from fangxun.api.templating import ENVIRONMENT as PAGES
from fangxun.api.unit_page import unit_page
from fangxun.core.errors import BadInput
from fangxun.report.charts import Series, bar_chart, column_chart
from fangxun.report.model import Table
from fangxun.report.render_html import table_html
from fangxun.report.templating import ENVIRONMENT as REPORT
from fangxun.warnings.events.journal_rules import JOURNAL_FIGURES

BAD = "<script>alert(1)</script>\"'&"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;"
ZONE = "Asia/Shanghai"
AT = datetime(2026, 7, 20, 8, 5, tzinfo=timezone.utc)


def _acks() -> dict:
    return {"sent": 3, "pending": 0, "delivered": 1, "acknowledged": 2, "escalated": 0, "failed": 0, "ack_rate": 2 / 3}


def _recipient() -> dict:
    call = {"status_label": BAD, "keys": BAD}
    record = {"call_count": 2, "redials": 1, "first_called_at": AT, "calls": [call, call],
              "sms_replies": [{"received_at": AT, "text": BAD}], "ack": {"label": BAD, "at": AT},
              "told_above": [{"recipient_name": BAD, "told_at": AT, "acked_at": None}]}
    return {"id": 9, "recipient_name": BAD, "unit_name": BAD, "overdue": False, "state": "delivered", "record": record}


def _timeline() -> dict:
    common = {"at": AT, "notifications": _acks()}
    items = [
        {**common, "type": "warning", "id": 1, "colour": BAD, "event": BAD, "colour_label": BAD, "msg_label": BAD,
         "headline": BAD, "recipients": [_recipient()]},
        {**common, "type": "decision", "id": 2, "seconds_to_decide": 3600, "decided_by": f"user:{BAD}",
         "recorded_by": BAD, "proposed_level_label": BAD, "proposal_rule": BAD, "note": BAD, "action_label": BAD,
         "level_label": BAD, "headline": BAD},
        {"type": "journal", "id": 3, "at": AT, "department_name": BAD, "unit_name": BAD, "unit_code": None,
         "figures": {"evacuated": 120}, "corrects_id": 1, "corrected_by": None, "action": BAD, "text": BAD,
         "author": BAD},
    ]
    event = {"id": 7, "name": BAD, "kind_label": BAD, "status_label": BAD, "started_at": AT, "ended_at": AT,
             "close_reason_label": BAD, "note": BAD}
    return {"event": event, "districts": [{"name": BAD}], "current_level_label": BAD, "items": items,
            "state_labels": {"delivered": BAD},
            "counts": {"warnings": 1, "decisions": 1, "journal_entries": 1},
            "totals": {name: None for name in JOURNAL_FIGURES}}


def _desk() -> dict:
    proposal = {"level": 2, "level_name": BAD, "rule": BAD, "trigger_warning_id": 1, "trigger_at": AT.isoformat(),
                "districts": 1, "city_fraction": 0.25}
    notice = {"told": 2, "acknowledged": 0, "waiting": 1, "escalated": 1, "failed": 0, "overdue": 1, "cancelled": 0}
    decision = {"id": 2, "decided_at": AT.isoformat(), "headline": BAD, "decided_by": BAD, "recorded_by": BAD,
                "note": BAD, "notice_warning_id": 5, "notice": notice, "unanswered_more": 3,
                "unanswered": [{"id": 9, "name": BAD, "place": BAD, "state_label": BAD, "overdue": True}]}
    return {"current_level": 3, "current_text": BAD, "proposal": proposal,
            "advice": {"action": "upgrade", "level": 2, "level_code": "II", "text": BAD},
            "districts": [{"code": BAD, "label": BAD, "share": 0.25}],
            "department_actions": [{"key": BAD, "name": BAD, "actions": [BAD]}], "decisions": [decision]}


def _event() -> str:
    desk = _desk()
    values = {"action": BAD, "level": BAD, "decided_by": BAD, "decided_at": BAD, "note": BAD}
    form = decision_form(desk, values, BadInput(f"decided_by：{BAD}", extra={"field": "decided_by"}))
    return event_page(_timeline(), BAD, ZONE, can_write=True, desk=desk, form=form)


def _sheet() -> dict:
    plan = {"id": 1, "kind_label": BAD, "title": BAD, "status": BAD, "status_label": BAD, "approved_on": BAD,
            "last_reviewed_on": None, "next_review_due": None, "version": BAD}
    return {"code": "410100000000", "name": BAD, "level": "city", "status": "overdue", "as_of": "2026-07-20",
            "synthetic": True, "missing_kinds": [BAD], "breadcrumb": [{"code": BAD, "name": BAD}],
            "plans": [plan],
            "contacts": [{"name": BAD, "role_label": BAD, "position": BAD, "phone": BAD, "phone_display": BAD,
                          "plan_id": 1, "channels": {"landline": BAD}}],
            "shelters": [{"name": BAD, "capacity": 300, "address": BAD}],
            "children": [{"code": BAD, "name": BAD, "status": "current"}]}


def _overview() -> str:
    stats = {"root": {"name": BAD, "code": BAD}, "as_of": "2026-07-20", "gap_units": 1, "overdue_reviews": 0,
             "due_soon_reviews": 0, "unreachable_plans": 0, "units_by_level": {"city": 1},
             "complete_by_level": {"city": {"complete": 0, "with_gaps": 1}},
             "plans_by_kind": {"flood_plan": 1}, "plans_by_status": {"overdue": 1}}
    oldest = {"name": BAD, "place": BAD, "state_label": BAD, "since": AT, "waited_seconds": 600}
    warning = {"id": 1, "colour": BAD, "colour_label": BAD, "event": BAD, "headline": BAD, "area": BAD, "sent": AT,
               "expires": AT, "sender_name": BAD, "awaiting": 1, "acknowledged": 2, "escalated": 3, "total": 6,
               "oldest": oldest}
    event = {"id": 7, "name": BAD, "kind_label": BAD, "started_at": AT, "current_label": BAD, "proposed_label": BAD,
             "proposal_rule": BAD, "advice": BAD, "needs_decision": True}
    gap = {"code": BAD, "place": BAD, "level_label": BAD, "missing_labels": [BAD]}
    plan = {"unit_code": BAD, "place": BAD, "title": BAD, "kind_label": BAD, "next_review_due": BAD,
            "days_overdue": 3}
    desk = {"warnings": {"total": 2, "items": [warning]}, "events": {"total": 2, "items": [event]},
            "gaps": {"total": 2, "items": [gap]}, "overdue": {"total": 2, "items": [plan]}}
    on_duty = {"desk": BAD, "desk_name": BAD, "duty_date": BAD, "shift": BAD, "officer_name": BAD,
               "officer_phone": BAD, "leader_name": BAD, "leader_phone": BAD}
    nobody = {**on_duty, "officer_name": None}
    desk["duty"] = {"days": 7, "now": [on_duty, nobody], "gaps": [{"desk": BAD, "desk_name": BAD, "start": AT,
                                                                   "end": AT}]}
    stuck = {"id": 1, "title": BAD, "unit_code": BAD, "place": BAD, "next_review_due": BAD, "days_overdue": 3,
             "owner": BAD, "problem": BAD}
    desk["reminders"] = {"sent": {"days": 30, "total": 1, "delivered": 0, "failed": 1},
                         "unremindable": {"total": 2, "items": [stuck]}}
    return pages.overview_page(stats, desk, BAD, ZONE)


def _ack(acked: bool) -> str:
    warning = SimpleNamespace(colour=BAD, event=BAD, headline=BAD, sender_name=BAD, sent=AT, onset=AT, expires=None,
                              status="cancelled", description=BAD, instruction=BAD, messages={}, all_clear=False)
    notification = SimpleNamespace(payload={"duty": BAD}, recipient_name=BAD, acked_at=AT if acked else None,
                                   acked_late=True, ack_deadline=AT)
    return ack_page(notification, warning, BAD, ZONE, just_acknowledged=acked)


def _journal_form() -> str:
    entry = {"id": 3, "standing": True, "department": None, "recorded_at": AT.isoformat(), "department_name": BAD,
             "unit_name": None, "unit_code": None, "action": BAD}
    principal = SimpleNamespace(department=None, name=f"user:{BAD}")
    departments = {BAD: SimpleNamespace(name=BAD)}
    values = {"department": BAD, "unit_code": BAD, "action": BAD, "text": BAD, "corrects_id": "3",
              **{name: BAD for name in JOURNAL_FIGURES}}
    return journal_form_page({"id": 7, "name": BAD, "status": "closed"}, [entry], departments, principal, values,
                             BAD, ZONE)


def _warning_entry() -> str:
    form = {name: BAD for name in (*TEXT_FIELDS, "polygon", "area_description")}
    return entry_page(BAD, form, [(BAD, BAD)], "areas.unit_codes[0]", BAD, BAD, BAD)


def _assign() -> str:
    warning = SimpleNamespace(id=4, event=BAD, colour=BAD, headline=BAD, sender_name=BAD, sender=BAD, sent=AT,
                              areas=[{"description": BAD}], notes=[BAD])
    return assign_page(warning, BAD, ZONE, [(BAD, BAD)], BAD, BAD)


def _event_list() -> str:
    event = {"id": 7, "kind_label": BAD, "name": BAD, "started_at": AT, "ended_at": None, "status": BAD,
             "status_label": BAD, "current_level_label": BAD, "warnings": 1, "decisions": 0, "journal_entries": 2}
    return events_list_page([event], BAD, ZONE)


def _report_table() -> str:
    return table_html(Table(BAD, BAD, (BAD, "数量"), ((BAD, 3), ("合计", 3.5)), note=BAD), 1)


RENDERED = {
    "login": lambda: pages.login_page(BAD, BAD, BAD),
    "error": lambda: pages.error_page(400, BAD),
    "overview": _overview,
    "events": _event_list,
    "event": _event,
    "journal_form": _journal_form,
    "warning_entry": _warning_entry,
    "warning_entry_error_above": lambda: entry_page(BAD, {}, [], BAD, BAD),
    "assign": _assign,
    "unit": lambda: unit_page(_sheet(), BAD, {BAD: BAD}),
    "board": lambda: board_page(BAD, BAD),
    "ack": lambda: _ack(False),
    "ack_done": lambda: _ack(True),
    "ack_invalid": lambda: invalid_page(BAD),
    "report_table": _report_table,
    "column_chart": lambda: column_chart(BAD, BAD, [BAD, "2月"], [Series(BAD, (1, 2), BAD)]),
    "bar_chart": lambda: bar_chart(BAD, BAD, [BAD], [Series(BAD, (4,), BAD)]),
}


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_hostile_text_comes_out_escaped(name):
    html = RENDERED[name]()
    assert "<script>alert" not in html and "\"'&<" not in html
    assert ESCAPED in html
    # no value breaks out of an attribute either: every quote in the page is markup's own, in pairs
    assert html.count('"') % 2 == 0 and "'" not in html


def test_pages_keep_their_shell_and_the_event_page_its_own_script():
    event = RENDERED["event"]()
    assert event.startswith('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">')
    assert event.count("<script") == 1 and '<script src="/static/event/print.js" defer></script>' in event
    assert "\n<" not in event   # the templates' layout stays out of the page
    ack = RENDERED["ack"]()
    assert '<meta name="robots" content="noindex, nofollow"><title>预警叫应确认</title>' in ack
    assert "<header>防汛预警 · 叫应确认</header>" in ack and "退出登录" not in ack


def test_every_template_compiles_with_autoescape():
    for environment in (PAGES, REPORT):
        names = environment.list_templates()
        assert names
        for name in names:
            template = environment.get_template(name)
            assert template.environment.autoescape(name), name


def test_pure_rule_modules_do_not_load_jinja2():
    modules = ["fangxun.warnings.routing.tree", "fangxun.warnings.routing.deadlines",
               "fangxun.warnings.routing.quiet_hours", "fangxun.plans.review_clock",
               "fangxun.warnings.events.event_rules", "fangxun.warnings.events.journal_rules"]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('jinja2' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
