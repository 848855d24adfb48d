"""The JSON Schemas of the OpenAPI document: request bodies (generated from the pydantic models where the routes
validate with one, otherwise from the constants the hand-written checks read) and the replies."""

from __future__ import annotations

from pydantic.json_schema import models_json_schema

from fangxun.api.routes_plans import ReviewBody, WithdrawBody
from fangxun.plans.contact_writes import UPDATABLE as CONTACT_UPDATABLE, ContactCreate
from fangxun.plans.list_import import ACTION_LABELS
from fangxun.plans.plan_fields import (KIND_LABELS, LIFECYCLE_LABELS, PLAN_COLUMNS, ROLE_LABELS, STATUS_LABELS, UPDATABLE,
                                       ContactFields, PlanFields)
from fangxun.plans.shelter_writes import UPDATABLE as SHELTER_UPDATABLE, ShelterFields
from fangxun.warnings.acks.inbound_sms import MAX_FROM_CHARS, MAX_TEXT_CHARS
from fangxun.warnings.delivery.channels.aliyun_protocol import VoiceRecord
from fangxun.warnings.delivery.channels.voice_protocol import CallReport
from fangxun.warnings.drills.rules import LEVELS as DRILL_LEVELS, OUTCOME_LABELS as DRILL_OUTCOMES
from fangxun.warnings.duty.roster_rules import SHIFTS
from fangxun.warnings.events.decisions import DECISION_FIELDS, MAX_NOTE
from fangxun.warnings.events.journal import FIELDS as JOURNAL_FIELDS, TEXT_LIMITS as JOURNAL_TEXT_LIMITS
from fangxun.warnings.events.journal_rules import FIGURE_LABELS, JOURNAL_FIGURES
from fangxun.warnings.events.sms_reports import CHANGEABLE as SMS_REPORT_CHANGEABLE
from fangxun.warnings.intake.assign import MAX_ASSIGNED
from fangxun.warnings.intake.manual_form import (AREA_FIELDS, EVENTS, FIELDS as WARNING_FIELDS, MAX_REFERENCES,
                                                 MAX_UNIT_CODES, STATUSES, TEXT_LIMITS as WARNING_TEXT_LIMITS)
from fangxun.warnings.readiness import CHECKS as READINESS_CHECKS
from fangxun.warnings.vocabulary import COLOURS, MSG_TYPES

REF = "#/components/schemas/{model}"
STRING, INTEGER, NUMBER, BOOLEAN = ({"type": kind} for kind in ("string", "integer", "number", "boolean"))
DATE = {"type": "string", "format": "date"}
TIME = {"type": "string", "format": "date-time"}
CODE = {"type": "string", "pattern": r"^\d{12}$", "description": "12 位统计用区划代码"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
# A time as the hand-entry forms take it: ISO 8601, without a zone Beijing time.
LOCAL_TIME = {"type": "string", "description": "ISO 8601 时间，如 2026-07-20T06:00:00+08:00；不带时区为北京时间",
              "examples": ["2026-07-20T06:00:00+08:00"]}


def ref(name: str) -> dict:
    """A reference to a component schema."""
    return {"$ref": REF.format(model=name)}


def null(schema: dict) -> dict:
    """`schema` or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict, **more) -> dict:
    """An array of `items`."""
    return {"type": "array", "items": items, **more}


def obj(properties: dict, *, optional: tuple[str, ...] = (), closed: bool = False, **more) -> dict:
    """An object whose properties are all present except `optional`; `closed` refuses any other property."""
    schema = {"type": "object", "properties": properties,
              "required": [name for name in properties if name not in optional]}
    if closed:
        schema["additionalProperties"] = False
    return {**schema, **more}


def counts_of(names, value: dict = INTEGER) -> dict:
    """An object with one `value` per name (counts by status, by kind …)."""
    return obj({name: value for name in names})


def _pydantic_schemas() -> dict[str, dict]:
    """The request models the routes validate with, as JSON Schemas (their $defs become components)."""
    models = [(PlanFields, "validation"), (ContactFields, "validation"), (ContactCreate, "validation"),
              (ShelterFields, "validation"), (ReviewBody, "validation"),
              (WithdrawBody, "validation"), (CallReport, "validation"), (VoiceRecord, "validation")]
    _, document = models_json_schema(models, ref_template=REF)
    return document["$defs"]


def _plan_bodies(generated: dict[str, dict]) -> dict[str, dict]:
    """POST /api/plans: PlanFields and its contacts; PATCH: the updatable fields, none required."""
    fields = generated["PlanFields"]
    for name, column in PLAN_COLUMNS.items():
        described = fields["properties"][name]
        described["description"] = column.label
        if column.labels:
            described["examples"] = [*column.labels, *column.labels.values()]
    fields["properties"]["unit_code"]["examples"] = ["410105000000"]
    contacts = array(ref("ContactFields"), description="责任人；修改时给出则整体替换")
    create = {**fields, "title": "PlanCreate", "properties": {**fields["properties"], "contacts": contacts}}
    update = {"title": "PlanUpdate", "type": "object", "additionalProperties": False, "minProperties": 1,
              "properties": {**{name: fields["properties"][name] for name in UPDATABLE}, "contacts": contacts}}
    return {"PlanCreate": create, "PlanUpdate": update}


def _partial(generated: dict, name: str, updatable: tuple[str, ...], title: str) -> dict:
    """The PATCH body of `name`: its updatable properties, at least one, nothing else."""
    properties = generated[name]["properties"]
    return {"title": title, "type": "object", "additionalProperties": False, "minProperties": 1,
            "properties": {key: properties[key] for key in updatable}}


def _text(limit: int, description: str = "") -> dict:
    return {"type": "string", "maxLength": limit, **({"description": description} if description else {})}


def _figures() -> dict:
    """The journal's figures: counts are whole numbers ≥ 0, the economic loss any number ≥ 0 (万元)."""
    return {"type": "object", "additionalProperties": False,
            "properties": {name: {"type": "number" if name == "economic_loss" else "integer", "minimum": 0,
                                  "description": FIGURE_LABELS[name]} for name in JOURNAL_FIGURES}}


def _request_bodies() -> dict[str, dict]:
    """The bodies checked field by field in code: their properties are the field lists those checks read."""
    limits = WARNING_TEXT_LIMITS
    polygon = {"type": "object", "description": "GeoJSON Polygon 或 MultiPolygon（经度、纬度；只有外环），或含其一的 Feature",
               "required": ["type", "coordinates"],
               "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]}, "coordinates": {"type": "array"}}}
    warning_props = {
        "event": {"enum": list(EVENTS), "description": "预警种类"},
        "colour": {"type": "string", "description": "颜色：blue、yellow、orange、red 或 蓝、黄、橙、红",
                   "examples": list(COLOURS)},
        "areas": obj({"unit_codes": array(CODE, maxItems=MAX_UNIT_CODES), "polygon": polygon,
                      "description": _text(limits["areas.description"])},
                     optional=AREA_FIELDS, closed=True, description="unit_codes 和/或 polygon（Cancel 可省略）"),
        "onset": {**LOCAL_TIME, "description": "生效时间（默认现在）"},
        "expires": {**LOCAL_TIME, "description": "失效时间（Cancel 以外必填）"},
        "headline": _text(limits["headline"]), "description": _text(limits["description"]),
        "instruction": _text(limits["instruction"]),
        "msg_type": {"enum": list(MSG_TYPES), "default": "Alert"},
        "references": array(obj({"sender": STRING, "identifier": STRING, "sent": LOCAL_TIME}, closed=True),
                            maxItems=MAX_REFERENCES, description="Update、Cancel 所引用的预警"),
        "status": {"enum": list(STATUSES), "default": "Actual"},
        "sender_name": _text(limits["sender_name"]),
    }
    assert tuple(warning_props) == WARNING_FIELDS
    journal_props = {
        "department": {"type": "string", "description": "部门键（配置 [warnings.departments]）"},
        "unit_code": CODE,
        "action": _text(JOURNAL_TEXT_LIMITS["action"], "采取的措施"),
        "text": _text(JOURNAL_TEXT_LIMITS["text"], "说明"),
        "figures": _figures(),
        "corrects_id": {**ID, "description": "被更正条目的编号"},
    }
    assert set(journal_props) == set(JOURNAL_FIELDS)
    level = {"description": "响应级别：1–4、I–IV、Ⅰ–Ⅳ 或 一级…四级", "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 4}, {"type": "string"}]}
    decision_props = {"action": {"enum": ["activate", "upgrade", "downgrade", "terminate"]}, "level": level,
                      "decided_by": _text(100, "决策人"), "decided_at": LOCAL_TIME, "note": _text(MAX_NOTE)}
    assert tuple(decision_props) == DECISION_FIELDS
    return {
        "WarningForm": {**obj(warning_props, optional=WARNING_FIELDS, closed=True), "required": ["event", "colour"],
                        "description": "手工录入预警（JSON 表单），与录入预警页面同一套规则：expires 与 areas 除 Cancel 外必填"},
        "JournalEntryBody": obj(journal_props, optional=tuple(journal_props), closed=True,
                                description="部门（department）和区划（unit_code）至少一项；措施、说明、数字至少一项"),
        "SmsReportToJournal": obj({name: journal_props[name] for name in SMS_REPORT_CHANGEABLE},
                                  optional=SMS_REPORT_CHANGEABLE, closed=True,
                                  description="核实后的部门、区划、措施和数字（可省略请求体）"),
        "DecisionBody": obj(decision_props, optional=("level", "decided_at", "note"), closed=True),
        "EventOpen": obj({"kind": {"type": "string", "description": "rainfall（降雨过程）或 snow_ice（雨雪冰冻）",
                                   "examples": ["rainfall", "snow_ice"]},
                          "name": _text(200), "started_at": LOCAL_TIME, "note": _text(2000)},
                         optional=("name", "started_at", "note"), closed=True),
        "EventClose": obj({"ended_at": LOCAL_TIME, "note": _text(2000)}, optional=("ended_at", "note"), closed=True),
        "EventLink": obj({"warning_id": ID}, closed=True),
        "UnitAssign": obj({"unit_codes": array({"type": "string", "pattern": r"^\d{6}(\d{3}(\d{3})?)?$"},
                                               minItems=1, maxItems=MAX_ASSIGNED,
                                               description="区划代码（6、9 或 12 位）")}, closed=True),
        "InboundSms": obj({"from": {"type": "string", "minLength": 1, "maxLength": MAX_FROM_CHARS,
                                    "examples": ["+8613900000008"]},
                           "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS, "examples": ["1"]},
                           "received_at": LOCAL_TIME},
                          description="上行短信；其他字段忽略"),
        "AliyunVoiceReport": array(ref("VoiceRecord"), title="AliyunVoiceReport"),
        "AbsenceBody": {**obj({
            "kind": {"enum": ["leave", "trip"], "description": "leave 请假，trip 出差"},
            "starts_at": {**LOCAL_TIME, "description": "开始时间"},
            "ends_at": {**LOCAL_TIME, "description": "结束时间（只写日期时含该日全天），应晚于开始时间"},
            "reason": _text(200, "事由"),
            "deputy_contact_id": {**ID, "description": "代理人（AB角）的联系人编号；省略时由本单位副责任人代理"}},
            optional=("reason", "deputy_contact_id"), closed=True),
            "description": "请假或出差登记；期间本人的预警通知改发代理人，代理人叫应即算数"},
        "AbsenceCancel": obj({"reason": _text(200, "取消原因（记入审计）")}, optional=("reason",), closed=True),
        "DutyLineBody": obj({"officer_name": _text(50, "值班员"), "officer_phone": {"type": "string", "description": "值班员电话"},
                             "leader_name": _text(50, "带班领导"),
                             "leader_phone": {"type": "string", "description": "带班领导电话"}}, closed=True),
    }


def _duty_line() -> dict:
    ns = null(STRING)
    return obj({"desk": {"type": "string", "description": "值班席位：city（市防指值班室）或部门键"},
                "desk_name": STRING, "duty_date": null(DATE), "shift": null({"enum": list(SHIFTS)}),
                "officer_name": ns, "officer_phone": ns, "leader_name": ns, "leader_phone": ns},
               description="一个席位某日某班次的值班员与带班领导")


def _reply_schemas() -> dict[str, dict]:
    """What the routes answer."""
    s, i, n, b = STRING, INTEGER, NUMBER, BOOLEAN
    ns, ni = null(STRING), null(INTEGER)
    unit = obj({"code": CODE, "name": s, "level": s, "level_label": s, "parent_code": ns})
    plan_keys = {"id": i, "unit_code": CODE, "kind": {"enum": list(KIND_LABELS)}, "title": s, "owner_org": s,
                 "approved_on": null(DATE), "last_reviewed_on": null(DATE), "review_cycle_months": ni, "version": s,
                 "lifecycle": {"enum": list(LIFECYCLE_LABELS)}, "kind_label": s, "next_review_due": null(DATE),
                 "status": {"enum": list(STATUS_LABELS)}, "status_label": s, "updated_at": s}
    contact = obj({"id": i, "unit_code": CODE, "plan_id": ni, "role": s, "role_label": s, "name": s, "position": s,
                   "phone": ns, "phone_display": s, "channels": {"type": "object"}},
                  description="责任人（角色：" + "、".join(ROLE_LABELS) + "）")
    absence = obj({"id": i, "contact_id": i, "contact_name": s, "contact_role": s, "unit_code": CODE, "unit_name": s,
                   "kind": {"enum": ["leave", "trip"]}, "kind_label": s, "starts_at": s, "ends_at": s, "reason": s,
                   "deputy_contact_id": ni, "deputy_name": ns, "created_by": s, "created_at": s, "cancelled_at": ns,
                   "cancelled_by": ns, "in_force": b}, optional=("in_force",),
                  description="请假（leave）或出差（trip）登记")
    shelter = obj({"id": i, "unit_code": CODE, "plan_id": ni, "name": s, "capacity": i, "address": s,
                   "lon": null(n), "lat": null(n)})
    revision = obj({"id": i, "action": s, "revised_on": DATE, "summary": s, "version": s,
                    "entered_by": s, "created_at": s})
    counts = obj({name: i for name in ("pending", "delivered", "acknowledged", "escalated", "failed", "dead",
                                      "cancelled", "total", "overdue", "acknowledged_late")})
    warning = obj({"id": i, "thread_id": i, "identifier": s, "sender": s, "sent": s, "msg_type": s, "cap_status": s,
                   "status": s, "status_label": s, "event": s, "colour": ns, "colour_label": s, "severity": ns,
                   "urgency": ns, "certainty": ns, "onset": ns, "expires": ns, "effective": ns,
                   "expires_assumed": b, "notes": array(s), "headline": s, "sender_name": s, "source": s,
                   "received_at": s, "closed_at": ns, "superseded_by_id": ni, "jurisdiction": s,
                   "jurisdiction_label": s, "all_clear": b})
    warning_detail = {"allOf": [ref("Warning"), obj({
        "description": s, "instruction": s, "language": s, "scope": s, "references": array({"type": "object"}),
        "areas": array({"type": "object"}), "entered_by": ns})]}
    recipient = obj({"id": i, "warning_id": i, "recipient_kind": s, "recipient_key": s, "recipient_name": s,
                     "unit_code": ns, "unit_name": s, "level": ns, "channel": s, "address": s, "purpose": s,
                     "status": s, "state": s, "overdue": b, "attempts": i, "reminders": i, "last_error": ns,
                     "created_at": s, "next_attempt_at": ns, "delivered_at": ns, "ack_deadline": ns, "acked_at": ns,
                     "acked_via": ns, "acked_late": b, "escalation_step": i, "escalated_at": ns,
                     "escalated_from_id": ni, "escalated_from": ns, "record": {"type": "object"}},
                    optional=("address", "record"), description="一个接收人的通知状态与叫应记录")
    event = obj({"id": i, "kind": s, "kind_label": s, "name": s, "status": s, "status_label": s, "started_at": s,
                 "ended_at": ns, "opened_by": s, "opening_warning_id": ni, "closed_by": ns, "close_reason": ns,
                 "close_reason_label": ns, "note": s, "warning_count": i})
    event_detail = {"allOf": [ref("Event"), obj({
        "created_at": ns, "warnings": array({"type": "object"}),
        "units": obj({"total": i, "by_level": {"type": "object"}, "districts": array(obj({"code": s, "name": s}))}),
        "notifications": {"type": "object"}, "decisions": i, "journal_entries": i})]}
    level = null({"type": "integer", "minimum": 1, "maximum": 4})
    decision = obj({"id": i, "event_id": i, "action": s, "action_label": s, "level": level["anyOf"][0],
                    "level_label": s,
                    "previous_level": level, "previous_level_label": s, "proposed_level": level,
                    "proposed_level_label": s, "proposal_rule": s, "decided_by": s, "decided_at": s,
                    "recorded_by": s, "recorded_at": s, "note": s, "trigger_warning_id": ni, "trigger_at": ns,
                    "seconds_to_decision": ni, "time_to_decision": ns, "notice_warning_id": ni,
                    "notice_counts": null(ref("StateCounts"))})
    figure_values = {name: null(n) for name in JOURNAL_FIGURES}
    entry = obj({"id": i, "event_id": i, "recorded_at": s, "author": s, "department": ns, "department_name": s,
                 "unit_code": ns, "unit_name": s, "corrects_id": ni, "corrected_by": ni, "standing": b, "action": s,
                 "figures": obj(figure_values, optional=JOURNAL_FIGURES), "text": s})
    page = {"total": i, "page": i, "per_page": i}
    thread = obj({"thread_id": i, "focus_id": i, "status": s, "status_label": s, "event": s, "colour": ns,
                  "colour_label": s, "headline": s, "sender_name": s, "response": b, "areas": array(s), "sent": s,
                  "updated": s, "closed_at": ns, "last_step": s, "messages": i, "unlocated_id": ni,
                  "counts": {"type": "object"}, "exercise": {**b, "description": "演练（CAP Exercise）"},
                  "expanding": {**null({"type": "object"}),
                                "description": "焦点消息的通知仍在分批生成时的进度（written、units_done、units_total），否则 null"}})
    expansion = obj({"state": {**s, "enum": ["expanding", "done", "stopped", "none"],
                               "description": "通知生成进度：expanding 正在分批生成（最紧急的先生成、先发送），done 已全部生成，"
                                              "stopped 预警已被更新/解除/过期而停止，none 本消息不通知任何人"},
                     "written": {**i, "description": "已生成的通知条数"},
                     "units_done": {**i, "description": "已生成通知的区划数"},
                     "units_total": {**i, "description": "需通知责任人的区划总数"}})
    intake = obj({"warning_id": i, "thread_id": ni, "created": b, "status": s,
                  "notifications": {**ni, "description": "通知总数；仍在生成时为 null（见 notifications_written 与 expansion）"},
                  "notifications_written": {**i, "description": "应答时已生成的通知条数"}, "expansion": expansion,
                  "unreachable": ni, "units": i, "units_without_persons": null(array(s)), "unknown_references": {"type": "array"},
                  "superseded": {"type": "array"}, "cancelled": {"type": "array"}, "cancelled_notifications": i,
                  "event_id": ni, "jurisdiction": s, "in_jurisdiction": b, "all_clear": b, "notes": array(s),
                  "warning": ref("WarningDetail"), "skipped": array(s), "thread": s})
    drill = obj({"id": i, "scope_code": s, "scope_name": s, "levels": array(s), "channels": array(s),
                 "deadline_minutes": i, "started_by": s, "started_at": s, "finished_at": ns, "cancelled_at": ns,
                 "told": i, "notifications": i, "no_contact": i, "units_without_persons_count": i})
    drill_figures = obj({"told": i, "answered": i, "late": i, "unreachable": i, "no_contact": i, "failed": i,
                         "no_answer": i, "waiting": i, "median_minutes": null(n), "max_minutes": null(n)})
    return {
        "Unit": unit,
        "UnitTree": {"allOf": [ref("Unit"), obj({"children": array(ref("UnitTree"))}, optional=("children",))]},
        "UnitDetail": {"allOf": [ref("Unit"), obj({
            "parent": null(ref("Unit")), "children": array(ref("Unit")), "plans": array(ref("Plan")),
            "contacts": array(ref("Contact")), "shelters": array(ref("Shelter"))})]},
        "UnitSearch": obj({"units": array(obj({"code": CODE, "name": s, "level": s, "level_label": s,
                                               "district": ns, "township": ns, "label": s}))}),
        "Plan": obj(plan_keys | {"unit_name": s}, optional=("unit_name",)),
        "PlanPage": obj(page | {"items": array(ref("Plan"))}),
        "PlanDetail": {"allOf": [ref("Plan"), obj({"unit": ref("Unit"), "revisions": array(ref("Revision")),
                                                   "contacts": array(ref("Contact")),
                                                   "shelters": array(ref("Shelter"))})]},
        "Contact": contact, "Shelter": shelter, "Revision": revision,
        "ContactList": obj({"unit_code": CODE, "items": array(ref("Contact"))}),
        "ShelterList": obj({"unit_code": CODE, "items": array(ref("Shelter"))}),
        "Deleted": obj({"deleted": {"const": True}, "id": i, "before": {"type": "object"}}),
        "ListImport": obj({"dry_run": b, "units": i, "created": i, "updated": i, "deleted": i, "unchanged": i,
                           "changes": array(obj({"action": {"enum": list(ACTION_LABELS)}, "row": ni,
                                                 "unit_code": CODE, "name": s, "target_id": ni,
                                                 "before": null({"type": "object"}),
                                                 "after": null({"type": "object"})}))},
                          description="导入的变更：单位数、新增、更新、删除、未变的条数，以及每条变更的前后内容"),
        "AuditRecord": obj({"id": i, "at": s, "actor": s, "action": s, "target_type": s, "target_id": s,
                            "before": null({"type": "object"}), "after": null({"type": "object"})}),
        "AuditPage": obj(page | {"items": array(ref("AuditRecord"))}),
        "StateCounts": counts,
        "Warning": warning, "WarningDetail": warning_detail,
        "WarningPage": obj(page | {"items": array(ref("Warning"))}),
        "WarningThread": obj({"id": i, "thread_id": i, "status": s, "status_label": s,
                              "current": ref("WarningDetail"), "event": s, "colour": ns, "areas": array({"type": "object"}),
                              "units": array({"type": "object"}), "notifications": ref("StateCounts"),
                              "messages": array(ref("WarningDetail"))}, optional=("areas_of",)),
        "Recipient": recipient,
        "RecipientPage": obj({"warning_id": i, **page, "counts": ref("StateCounts"), "items": array(ref("Recipient"))}),
        "IntakeResult": intake,
        "DryRun": obj({"dry_run": {"const": True}, "jurisdiction": s, "unit_count": i,
                       "units_by_level": {"type": "object", "additionalProperties": i},
                       "units": array(obj({"code": s, "name": s, "level": s, "fraction": n, "subtree": b}))},
                      description="预演：将匹配的区划与接收人，不保存任何内容（units：区域点名的区划（subtree：含其下全部区划）"
                                  "与多边形、圆覆盖的区划；unit_count、units_by_level：覆盖区划总数，由数据库计数）"),
        "Assignment": obj({"warning_id": i, "jurisdiction": s, "units": i, "assigned": array(s), "notifications": i,
                           "unreachable": i}),
        "Acknowledged": obj({"acknowledged": {"const": True}, "acked_at": ns, "acked_via": ns, "acked_late": b,
                             "notification_id": i, "recipient_name": s, "warning_id": i, "warning_status": ns}),
        "BoardThreads": obj({"as_of": s, "recent_hours": i, "threads": array(ref("BoardThreadSummary")),
                             "state_labels": {"type": "object"}, "count_labels": {"type": "object"},
                             "filters": {"type": "object"}, "levels": {"type": "object"},
                             "held_back": {"type": "array"}, "sms_replies_unmatched": {"type": "array"}}),
        "BoardThreadSummary": thread,
        "BoardThread": {"allOf": [ref("BoardThreadSummary"), obj({
            "as_of": s, "timeline": array(obj({"id": i, "msg_type": s, "step": s, "step_label": s, "colour": ns,
                                                "headline": s, "sent": s, "expires": ns, "closed_at": ns,
                                                "status": s, "all_clear": b, "counts": {"type": "object"}})),
            "all_counts": {"type": "object"}, "departments": array(obj({"key": s, "name": s}))})]},
        "BoardGroups": obj({"thread_id": i, "message": s, "parent": ns, "filtered": b,
                            "groups": array({"type": "object"})}),
        "BoardRecipients": obj({"thread_id": i, "message": s, "group": ns, "total": i, "page": i, "per_page": i,
                                "pages": i, "items": array({"type": "object"})}),
        "Event": event, "EventDetail": event_detail,
        "EventList": obj({"total": i, "items": array(ref("Event"))}),
        "Proposal": obj({"event_id": i, "proposal": null(obj({
            "level": i, "level_label": s, "level_name": s, "rule": s, "trigger_warning_id": ni, "trigger_at": s,
            "warning_ids": array(i), "districts": {"type": "array"}, "city_fraction": n,
            "actions": {"type": "object"}, "cover": {"type": "object"}}))}),
        "Decision": decision,
        "DecisionList": obj({"event_id": i, "decisions": array(ref("Decision"))}),
        "JournalEntry": entry,
        "Journal": obj({"event_id": i, "entries": array(ref("JournalEntry")),
                        "totals": obj(figure_values), "figure_labels": counts_of(JOURNAL_FIGURES, s)}),
        "SmsReports": obj({"event_id": i, "items": array(obj({
            "id": i, "text": s, "received_at": s, "sender_name": ns, "phone_masked": s, "recipient_kind": s,
            "recipient_name": s, "unit_code": ns, "unit_name": s, "department": ns, "department_name": s,
            "warning_id": i, "state": {"enum": ["unverified", "journal"]}, "state_label": s,
            "journal_entry_id": ni}))}),
        "Health": obj({"status": {"enum": ["ok", "error"]}, "alive": b, "detail": s, "version": s}),
        "Readiness": obj({"ready": b, "status": {"enum": ["ready", "not_ready"]}, "detail": s, "version": s,
                          "checks": obj({name: ref("ReadinessCheck") for name in READINESS_CHECKS})}),
        "ReadinessCheck": obj({"ok": b, "detail": s}, description="一项检查：是否通过与中文说明（另有该项的数值）"),
        "Coverage": obj({"root": ref("Unit"), "as_of": DATE, "levels": {"type": "object"}, "plans": {"type": "object"},
                         "overdue_reviews": i, "due_soon_reviews": i, "unreachable_plans": i,
                         "unreachable_plan_ids": array(i), "gap_units": i, "gaps": array({"type": "object"})}),
        "Stats": obj({"root": ref("Unit"), "as_of": DATE, "units_by_level": {"type": "object"}, "plans_total": i,
                      "plans_by_kind": counts_of(KIND_LABELS), "plans_by_status": counts_of(STATUS_LABELS),
                      "gap_units": i, "overdue_reviews": i, "due_soon_reviews": i, "unreachable_plans": i,
                      "complete_by_level": {"type": "object"}}),
        "FeatureCollection": obj({"type": {"const": "FeatureCollection"}, "features": array({"type": "object"}),
                                  "numberMatched": i, "numberReturned": i,
                                  "links": array(obj({"rel": s, "type": s, "href": s}))},
                                 optional=("numberMatched", "numberReturned", "links"), description="RFC 7946 GeoJSON"),
        "AnnualReport": {"type": "object", "description": "年度统计报告（format=json）"},
        "DrillStart": obj({
            "scope_code": {**CODE, "description": "演练范围的区划代码（全市、区县或乡镇）"},
            "levels": {"anyOf": [array({"enum": list(DRILL_LEVELS)}), s],
                       "description": "层级：village、township、district、desk（列表或逗号分隔；默认全部；desk 仅全市演练）"},
            "channels": {"anyOf": [array(s), s], "description": "责任人的通知渠道（默认同预警的 person_channels）"},
            "deadline": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1440}, s],
                         "description": "叫应时限：分钟数或如 30m、1h（默认 30 分钟）"}},
            optional=("levels", "channels", "deadline"), closed=True),
        "Drill": drill,
        "DrillStarted": {"allOf": [ref("Drill"), obj({"units_without_persons": array(CODE)})]},
        "Drills": obj({"items": array(ref("Drill"))}),
        "DrillReport": obj({
            "drill": ref("Drill"), "deadline_at": s, "as_of": s, "totals": drill_figures, "escalations": i,
            "districts": array({"allOf": [obj({"district_code": s, "district_name": s}), drill_figures]}),
            "persons": array(obj({"district_code": s, "district_name": s, "unit_code": ns, "unit_name": s,
                                  "level_label": s, "kind": s, "name": s, "channels": array(s),
                                  "outcome": {"enum": list(DRILL_OUTCOMES)}, "outcome_label": s,
                                  "answered_at": ns, "minutes_to_answer": null(n), "escalated": b, "detail": s}))},
            description="演练报告：各区县通知、叫应、未联系上（无联系方式/送达失败/到时未叫应）与叫应用时；每人一行"),
        "SmsCallbackReply": obj({"recorded": b, "duplicate": b, "reply_id": i, "kind": {"enum": ["ack", "report"]},
                                 "acknowledged": i, "known": b}),
        "VoiceCallbackReply": obj({"call_id": s, "recorded": b, "duplicate": b, "status": ns, "acknowledged": b}),
        "AliyunTaken": obj({"code": {"const": 0}, "msg": s}),
        "Absence": absence,
        "AbsenceList": obj({"contact_id": i, "items": array(ref("Absence"))}),
        "AwayList": obj({"at": s, "items": array({"allOf": [ref("Absence"), obj({
            "stand_in_contact_id": ni, "stand_in_name": ns,
            "notified_as": {"type": "string", "description": "通知上的接收人名称，如 李四（代 张三，请假至 12月9日）"}})]})}),
        "DutyLine": _duty_line(),
        "DutyRosterLine": {"allOf": [obj({"id": i}), ref("DutyLine")]},
        "DutyRoster": obj({"from": DATE, "to": DATE, "desks": {"type": "object", "description": "席位键 -> 名称"},
                           "lines": array(ref("DutyRosterLine"))}),
        "DutyNow": obj({"at": TIME, "desks": array(ref("DutyLine"), description="各席位当前值班（无人值班时各项为 null）")}),
        "DutyDeleted": obj({"deleted": ref("DutyLine")}),
        "OpenApiDocument": obj({"openapi": s, "info": {"type": "object"}, "paths": {"type": "object"}},
                               description="本文档"),
    }


ERROR = obj({"error": {"type": "string", "description": "错误代码，如 bad_input、not_found、unauthorized"},
             "detail": {"type": "string", "description": "中文说明"},
             "field": {"type": "string", "description": "出错的字段或参数（路径如 contacts[0].phone）"},
             "errors": array(obj({"field": STRING, "detail": STRING})),
             "problems": {"type": "array"}, "max_bytes": INTEGER,
             "retry_after": {"type": "integer", "description": "503：建议多少秒后重试（同 Retry-After）"},
             "request_id": {"type": "string", "description": "500：本次请求的编号，日志中同一编号记有详情"}},
            optional=("field", "errors", "problems", "max_bytes", "retry_after", "request_id"),
            description='所有错误的形状：{"error": 代码, "detail": 中文说明, "field"?: 字段}')


def component_schemas() -> dict[str, dict]:
    """Every schema of components/schemas, by name."""
    generated = _pydantic_schemas()
    partials = {"ContactUpdate": _partial(generated, "ContactCreate", CONTACT_UPDATABLE, "ContactUpdate"),
                "ShelterUpdate": _partial(generated, "ShelterFields", SHELTER_UPDATABLE, "ShelterUpdate")}
    return {"Error": ERROR, **generated, **_plan_bodies(generated), **partials, **_request_bodies(),
            **_reply_schemas()}
