"""The event pages: the list, one event's printable timeline with its response desk and decision form, and the
journal form.

The data is built here; api/templates/events.html, event.html and journal_form.html draw it (autoescaped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from fangxun.api.csp import inline_hashes
from fangxun.api.templating import duration_text, local_time, render, user_name
from fangxun.core.errors import FangxunError
from fangxun.warnings.events.decisions import DECISION_FIELDS
from fangxun.warnings.events.journal_rules import FIGURE_LABELS, JOURNAL_FIGURES

# duration_text and local_time are the templates' filters, kept importable from here.
__all__ = ["decision_form", "duration_text", "event_page", "events_list_page", "journal_form_page", "local_time",
           "page_policy"]
ACTION_OPTIONS = (("", "请选择"), ("activate", "启动"), ("upgrade", "提升"), ("downgrade", "降低"), ("terminate", "终止"))
LEVEL_OPTIONS = (("", "（终止时可不选）"), ("I", "Ⅰ级"), ("II", "Ⅱ级"), ("III", "Ⅲ级"), ("IV", "Ⅳ级"))


def page_policy(html: str) -> str:
    """Our own stylesheet and script only, the frame's inline style by its hash; forms post back here."""
    styles = " ".join(inline_hashes(html, "style"))
    return ("default-src 'none'; script-src 'self'; "
            f"style-src 'self' {styles}; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


def events_list_page(events: list[dict], user: str, zone: str) -> str:
    """Every event, newest first: kind, name, start and end, status, current level and counts."""
    return render("events.html", title="事件", user=user, zone=zone, events=events)


def decision_form(desk: dict, values: Mapping[str, str] | None = None, error: FangxunError | None = None) -> dict:
    """The decision form: as posted after a refusal, with the error at its field; else set to what the proposal
    points to (nothing chosen when it asks for no change)."""
    if values is None:
        advice = desk["advice"]
        values = {"action": advice["action"] or "", "level": advice["level_code"]}
    errors: dict[str, str] = {}
    if error is not None:
        field = str(error.extra.get("field", ""))
        prefix = f"{field}："
        errors[field if field in DECISION_FIELDS else ""] = error.detail.removeprefix(prefix)
    return {"values": {name: str(values.get(name, "") or "") for name in DECISION_FIELDS}, "errors": errors,
            "action_options": ACTION_OPTIONS, "level_options": LEVEL_OPTIONS}


def event_page(timeline: dict, user: str, zone: str, sms_reports: Sequence[dict] = (),
               can_write: bool = False, desk: dict | None = None, form: dict | None = None) -> str:
    """One event: header, the response desk (level in force, live proposal, decisions with their notices' 叫应,
    and the decision `form` for those who may decide), then one chronological timeline, the SMS replies still to
    verify (with the button that makes one a journal entry when `can_write`), then the figure totals; printable."""
    event = timeline["event"]
    return render("event.html", title=event["name"], user=user, zone=zone, timeline=timeline,
                  event_id=int(event["id"]), figure_labels=FIGURE_LABELS, journal_figures=JOURNAL_FIGURES,
                  sms_reports=[{**r, "received_at": datetime.fromisoformat(r["received_at"])} for r in sms_reports
                               if r["state"] == "unverified"], can_write=can_write, desk=desk, form=form)


def journal_form_page(event: dict, entries: list[dict], departments: Mapping[str, object], principal,
                      values: dict, message: str, zone: str, unit_labels: Mapping[str, str] | None = None) -> str:
    """The form of a new journal entry (or a correction), with the error of the last attempt; units are named by
    `unit_labels` (with their district: place_labels) where given."""
    labels = unit_labels or {}
    if principal.department:
        dept = departments.get(principal.department)
        dept_options = [(principal.department, getattr(dept, "name", principal.department))]
    else:
        dept_options = [("", "（不填部门）")] + [(key, d.name) for key, d in departments.items()]
    # A correction stays within its department: a department's account sees only its own entries here.
    standing = [e for e in entries if e["standing"] and e["department"] == (principal.department or e["department"])]

    def who(e: dict) -> str:
        return e["department_name"] or labels.get(e["unit_code"] or "") or e["unit_name"] or e["unit_code"] or ""

    correct_options = [("", "（新条目，不是更正）")] + [
        (str(e["id"]), f'#{e["id"]} {local_time(datetime.fromisoformat(e["recorded_at"]), zone)} {who(e)} '
                       f'{e["action"][:30]}')
        for e in standing]
    names = ("department", "unit_code", "action", "text", "corrects_id", *JOURNAL_FIGURES)
    form = {name: str(values.get(name, "") or "") for name in names}
    chosen = [(form["unit_code"], labels.get(form["unit_code"], form["unit_code"]))] if form["unit_code"] else []
    return render("journal_form.html", title=f"填报事件日志 - {event['name']}", user=user_name(principal.name),
                  event=event, message=message, form=form, chosen_unit=chosen, department_options=dept_options,
                  correction_options=correct_options, figure_labels=FIGURE_LABELS, journal_figures=JOURNAL_FIGURES)
