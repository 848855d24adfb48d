"""The demo year as rows: warning threads, warned units, events, response decisions and journal entries. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fangxun.demo.history_script import (CITY_AREA, DECIDERS, DISTRICTS, DUTY_OFFICERS, LONE_SIGNALS, PROCESSES,
                                         STATION_SENDERS, Process, Thread)
from fangxun.settings import Settings
from fangxun.warnings.delivery.outbox import ACK_SLOT, DUTY_SLOT, RECIPIENT_SLOT
from fangxun.warnings.events.config import LEVEL_LABELS
from fangxun.warnings.events.event_rules import LinkedWarning, event_name, local_day, start_of, warning_end
from fangxun.warnings.events.response_rules import WarningFact, propose
from fangxun.warnings.intake.normalised import COLOUR_SEVERITY, NormalisedWarning, Reference, WarningArea
from fangxun.warnings.routing.recipients import Recipient, WarnedUnit, department_recipients, person_recipients
from fangxun.warnings.routing.templates import message_context, render
from fangxun.warnings.routing.tree import WarningFacts, recipients_plan, route
from fangxun.warnings.routing.wording import message_kind, template_for
from fangxun.warnings.vocabulary import COLOUR_LABELS, COLOURS

ZONE = ZoneInfo("Asia/Shanghai")
ENTERED_BY = "feed:zhengzhou-met"
AMOUNTS = {"blue": "12小时内降雨量将达50毫米以上", "yellow": "6小时内降雨量将达50毫米以上",
           "orange": "3小时内降雨量将达50毫米以上", "red": "3小时内降雨量将达100毫米以上"}
# GB/T 28594 codes of the warning types, the last part of an identifier (one station may send two at once).
EVENT_CODES = {"暴雨": "11B03", "暴雪": "11B04", "寒潮": "11B05", "大风": "11B06", "高温": "11B09", "雷电": "11B14",
               "冰雹": "11B15", "道路结冰": "11B21"}
DESCRIPTIONS = {
    "雷电": "6小时内可能发生雷电活动，并可能伴有短时强降水、大风或冰雹等强对流天气",
    "大风": "将出现平均风力6级以上或阵风7级以上大风",
    "冰雹": "6小时内可能出现冰雹天气，并可能造成雹灾",
    "暴雪": "12小时内降雪量将达6毫米以上，或者已达6毫米以上且降雪持续",
    "道路结冰": "将出现对交通有影响的道路结冰",
    "寒潮": "48小时内最低气温将下降8℃以上，最低气温小于等于4℃",
    "高温": "连续三天日最高气温将在35℃以上",
}


@dataclass(frozen=True)
class UnitInfo:
    """One unit of the demo registry, as the history needs it."""

    code: str
    name: str
    level: str
    district_code: str | None
    township_code: str | None


@dataclass
class Registry:
    """The demo registry the history is written against: units by level and the 责任人 of each unit."""

    units: dict[str, UnitInfo]
    townships: dict[str, list[str]]  # district code -> township codes
    villages: dict[str, list[str]]  # township code -> village codes
    persons: dict[str, list]  # unit code -> plan persons (fangxun.plans.contact_queries.plan_persons rows)


class Ids:
    """Explicit ids for one table, counting on from what the table already holds."""

    def __init__(self, start: int):
        self.next = start

    def __call__(self) -> int:
        value, self.next = self.next, self.next + 1
        return value


@dataclass
class Message:
    """One warning message of the year and what the notifications need of it."""

    id: int
    thread_id: int
    station: str
    event: str
    colour: str | None
    msg_type: str
    sent: datetime
    received: datetime
    expires: datetime | None
    status: str = "active"
    closed_at: datetime | None = None
    superseded_by_id: int | None = None
    districts: tuple[str, ...] = ()
    units: list[WarnedUnit] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    template: str = "default"
    previous_colour: str | None = None
    references: tuple[Reference, ...] = ()
    # Response notices (source "response") are sent by fangxun itself under their own identifier.
    source: str = "cap"
    notice_identifier: str = ""
    payload: dict = field(default_factory=dict)  # what each of its notifications' payload adds

    @property
    def identifier(self) -> str:
        """The CAP identifier: the station's sender code, the local time sent and the type's code."""
        if self.notice_identifier:
            return self.notice_identifier
        return f"{self.sender}_{self.sent.astimezone(ZONE):%Y%m%d%H%M%S}_{EVENT_CODES.get(self.event, '11B99')}"

    @property
    def cap_status(self) -> str:
        """The CAP status: every message of the demo year is Actual."""
        return "Actual"

    @property
    def sender(self) -> str:
        """The CAP sender code of its station (fangxun for a response notice)."""
        return STATION_SENDERS.get(self.station, self.station)

    def active_at(self, moment: datetime) -> bool:
        """Whether the message was in force at `moment` (a Cancel never is)."""
        return (self.msg_type != "Cancel" and self.received <= moment
                and (self.closed_at is None or moment < self.closed_at)
                and (self.expires is None or moment < self.expires))


@dataclass
class History:
    """Every row of the demo year, ids assigned, in an order that respects the foreign keys."""

    warnings: list[dict] = field(default_factory=list)
    warning_units: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    event_warnings: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    journal: list[dict] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)


def local(year: int, stamp: str) -> datetime:
    """"MM-DD HH:MM" in Beijing time of `year`, as aware UTC."""
    day, clock = stamp.split()
    month, mday = map(int, day.split("-"))
    hour, minute = map(int, clock.split(":"))
    return datetime(year, month, mday, hour, minute, tzinfo=ZONE).astimezone(UTC)


def district_code(short: str) -> str:
    """The 12-digit code of a district by its short name (金水 -> 410105000000)."""
    return DISTRICTS[short][0] + "000000"


def _stronger(colour: str | None, than: str | None) -> int:
    rank = {c: i for i, c in enumerate(COLOURS)}
    return rank.get(colour or "", -1) - rank.get(than or "", -1)


class _Coverage:
    """Which townships of a district an orange or red thread covers: one shuffled order per thread and
    district, so an upgrade over the same district widens the cover instead of jumping around."""

    def __init__(self, registry: Registry, rng: random.Random, big: bool):
        self.registry, self.rng, self.big = registry, rng, big
        self.orders: dict[str, list[str]] = {}

    def units(self, colour: str | None, districts: tuple[str, ...]) -> list[WarnedUnit]:
        registry, found = self.registry, []
        for code in districts:
            townships = registry.townships.get(code, [])
            if colour in ("orange", "red"):
                if code not in self.orders:
                    self.orders[code] = self.rng.sample(townships, len(townships))
                share = {"orange": 0.35, "red": 0.55}[colour] + (0.1 if self.big else 0)
                chosen = sorted(self.orders[code][:max(1, round(len(townships) * share))])
                found.append(WarnedUnit(code, "district", round(len(chosen) / max(1, len(townships)), 3)))
                for township in chosen:
                    found.append(WarnedUnit(township, "township", 1.0))
                    found += [WarnedUnit(v, "village", 1.0) for v in registry.villages.get(township, [])]
            elif colour == "yellow":
                found.append(WarnedUnit(code, "district", 1.0))
                found += [WarnedUnit(t, "township", 1.0) for t in townships]
            else:
                found.append(WarnedUnit(code, "district", 1.0))
        return found


def _headline(message: Message) -> str:
    zh, event, station = COLOUR_LABELS.get(message.colour or "", ""), message.event, message.station
    if message.msg_type == "Alert":
        return f"{station}发布{event}{zh}预警信号"
    if message.msg_type == "Cancel":
        return f"{station}解除{event}{zh}预警信号"
    before = COLOUR_LABELS.get(message.previous_colour or "", "")
    change = _stronger(message.colour, message.previous_colour)
    if change > 0:
        return f"{station}将{event}{before}预警信号升级为{zh}预警信号"
    if change < 0:
        return f"{station}将{event}{before}预警信号降级为{zh}预警信号"
    return f"{station}更新{event}{zh}预警信号"


def _area_names(registry: Registry, message: Message) -> list[str]:
    return [registry.units[code].name for code in message.districts if code in registry.units]


def _texts(registry: Registry, message: Message) -> tuple[str, str, str]:
    """(headline, description, instruction) in the words of a meteorological station."""
    areas = "、".join(_area_names(registry, message))
    if message.msg_type == "Cancel":
        return (_headline(message), f"{areas}{message.event}天气已基本结束，{_headline(message)}。",
                "请继续做好灾后排查和恢复工作。")
    what = AMOUNTS.get(message.colour or "") if message.event == "暴雨" else DESCRIPTIONS.get(message.event, "")
    description = f"预计{areas}{what}。"
    instruction = ("请立即按预案启动应急响应，落实危险区域人员转移避险措施。"
                   if message.colour in ("orange", "red") else "请有关单位和人员做好防范准备。")
    return _headline(message), description, instruction


def _kind(message: Message) -> str:
    """The kind of message its wording follows (routing.wording): alert, upgrade, downgrade, update, all_clear."""
    return message_kind(message.msg_type, message.msg_type == "Cancel", message.colour, message.previous_colour)


def _recipients(message: Message, previous: list[Recipient], registry: Registry, settings: Settings) -> None:
    """Route the message as intake would: its own recipients plus everyone told before (a Cancel: only those),
    each with the template of the message's kind."""
    config = settings.warnings
    facts = WarningFacts(event=message.event, colour=message.colour, msg_type=message.msg_type,
                         unit_codes=frozenset(unit.code for unit in message.units))
    decisions = route(facts, config.tree)
    plan = recipients_plan(decisions)
    message.template = decisions[0].template if decisions else "default"
    own: list[Recipient] = []
    if message.msg_type != "Cancel" or not previous:
        persons = [person for unit in message.units if unit.level in plan.person_levels
                   for person in registry.persons.get(unit.code, ())]
        people, _ = person_recipients(plan, config, message.units, persons)
        own = department_recipients(plan, config) + people
    again = [r._replace(template=message.template) for r in previous]
    seen, kept = set(), []
    for recipient in own + again:
        if recipient.slot not in seen:
            seen.add(recipient.slot)
            kept.append(recipient)
    kind, wording = _kind(message), config.wording.model_dump()
    message.recipients = [r._replace(template=template_for(r.template, kind, wording)) for r in kept]


def _thread_messages(thread: Thread, start: datetime, rng: random.Random) -> list[Message]:
    """The messages of one thread with their times (ids and places come later)."""
    found: list[Message] = []
    districts: tuple[str, ...] = ()
    colour = None
    for number, signal in enumerate(thread.signals):
        sent = start + timedelta(hours=signal.at, minutes=rng.randint(0, 20) if signal.at else 0)
        msg_type = "Alert" if number == 0 else ("Cancel" if signal.colour is None else "Update")
        previous = colour
        colour = signal.colour or colour
        if signal.districts:
            districts = tuple(district_code(short) for short in signal.districts.split())
        found.append(Message(id=0, thread_id=0, station=thread.station, event=thread.event, colour=colour,
                             msg_type=msg_type, sent=sent.replace(second=0, microsecond=0),
                             received=sent.replace(second=0, microsecond=0) + timedelta(seconds=rng.randint(20, 90)),
                             expires=None, districts=districts, previous_colour=previous))
    for message, following in zip(found, found[1:] + [None]):
        if message.msg_type == "Cancel":
            message.status, message.closed_at = "cancelled", message.received
        elif following is None:
            message.expires = message.sent + timedelta(hours=thread.validity_hours)
            message.status = "expired"
            message.closed_at = message.expires + timedelta(seconds=rng.randint(5, 59))
        else:
            message.expires = max(message.sent + timedelta(hours=thread.validity_hours),
                                  following.sent + timedelta(hours=2))
            message.status = "cancelled" if following.msg_type == "Cancel" else "superseded"
            message.closed_at = following.received
    return found


def _warning_row(registry: Registry, message: Message, settings: Settings) -> dict:
    headline, description, instruction = _texts(registry, message)
    names = _area_names(registry, message)
    area = WarningArea(description="、".join(names), geocodes=tuple(message.districts))
    severity = COLOUR_SEVERITY.get(message.colour or "", "Unknown")
    urgency = "Immediate" if message.colour in ("orange", "red") else "Expected"
    normalised = NormalisedWarning(
        identifier=message.identifier, sender=message.sender,
        sent=message.sent, status="Actual", msg_type=message.msg_type, scope="Public",
        references=message.references, event=message.event, colour=message.colour, severity=severity,
        urgency=urgency, certainty="Likely", onset=message.sent, expires=message.expires, headline=headline,
        description=description, instruction=instruction, sender_name=message.station, language="zh-CN",
        areas=(area,))
    context = message_context(event=message.event, colour=message.colour, headline=headline,
                              description=description, instruction=instruction, areas=names, onset=message.sent,
                              expires=message.expires, ack_url=ACK_SLOT, zone=settings.warnings.quiet_hours.timezone,
                              kind=_kind(message), previous_colour=message.previous_colour,
                              sender_name=message.station)
    templates = sorted({recipient.template for recipient in message.recipients})
    slots = {"recipient": RECIPIENT_SLOT, "duty": DUTY_SLOT}
    messages = {name: list(render(settings.warnings.templates[name], {**context, **slots})) for name in templates}
    return {
        "id": message.id, "identifier": normalised.identifier, "sender": message.sender, "sent": message.sent,
        "msg_type": message.msg_type, "cap_status": "Actual", "scope": "Public", "all_clear": normalised.all_clear,
        "references": [reference.as_json() for reference in message.references], "event": message.event,
        "colour": message.colour, "severity": severity, "urgency": urgency, "certainty": "Likely",
        "onset": message.sent, "expires": message.expires, "headline": headline, "description": description,
        "instruction": instruction, "sender_name": message.station, "language": "zh-CN", "areas": [area.as_json()],
        "document": normalised.as_json(), "raw": None, "messages": messages, "source": "cap",
        "status": message.status, "thread_id": message.thread_id, "superseded_by_id": message.superseded_by_id,
        "received_at": message.received, "closed_at": message.closed_at, "entered_by": ENTERED_BY,
        "effective": None, "expires_assumed": False, "jurisdiction": "inside",
        "all_clear": message.msg_type == "Cancel", "notes": [],
    }


@dataclass
class _Planned:
    process: Process | None
    threads: list[list[Message]]
    coverage: _Coverage


def build_warnings(registry: Registry, settings: Settings, year: int, rng: random.Random,
                   warning_ids: Ids) -> tuple[list[_Planned], list[Message]]:
    """Every thread of the year with ids in order of receipt, places, statuses and recipients."""
    planned = []
    for process in PROCESSES:
        start = local(year, process.start)
        threads = [_thread_messages(thread, start, rng) for thread in process.threads]
        planned.append(_Planned(process, threads, _Coverage(registry, rng, process.big)))
    for stamp, thread in LONE_SIGNALS:
        planned.append(_Planned(None, [_thread_messages(thread, local(year, stamp), rng)], _Coverage(registry, rng,
                                                                                                       False)))
    messages = sorted((m for plan in planned for thread in plan.threads for m in thread),
                      key=lambda m: (m.received, m.sent, m.event))
    for message in messages:
        message.id = warning_ids()
    for plan in planned:
        for thread in plan.threads:
            previous: list[Recipient] = []
            for before, message in zip([None] + thread[:-1], thread):
                message.thread_id = thread[0].id
                if before is not None:
                    before.superseded_by_id = message.id
                    message.references = (Reference(before.sender, before.identifier, before.sent),)
                message.units = (before.units if message.msg_type == "Cancel" and before is not None
                                 else plan.coverage.units(message.colour, message.districts))
                _recipients(message, previous, registry, settings)
                previous = message.recipients
    return planned, messages


def build_history(registry: Registry, settings: Settings, year: int, rng: random.Random,
                  ids: dict[str, Ids]) -> History:
    """Warnings, warned units, events, decisions and journal entries of the year (notifications apart)."""
    from fangxun.demo.history_journal import journal_entries
    from fangxun.demo.history_notices import notices

    planned, messages = build_warnings(registry, settings, year, rng, ids["warnings"])
    history = History(messages=messages)
    history.warnings = [_warning_row(registry, m, settings) for m in messages]
    history.warning_units = [{"warning_id": m.id, "unit_code": u.code, "level": u.level, "fraction": u.fraction}
                             for m in messages for u in m.units]
    taken: set[str] = set()
    for plan in planned:
        if plan.process is None:
            continue
        event = _event_row(plan, settings, ids["events"](), rng, taken)
        history.events.append(event)
        members = sorted((m for thread in plan.threads for m in thread), key=lambda m: m.id)
        history.event_warnings += [{"warning_id": m.id, "event_id": event["id"],
                                    "joined_at": max(m.received, event["started_at"]), "joined_by": "rule"}
                                   for m in members]
        decisions = _decisions(plan, event, settings, ids["response_decisions"], rng)
        told, rows = notices(event, decisions, settings, ids["warnings"], rng)
        history.messages += told
        history.warnings += rows
        history.decisions += decisions
        history.journal += journal_entries(plan.process, event, decisions, plan.threads, registry, settings,
                                           ids["journal_entries"], rng)
    # Descending ids: an Update's predecessor points at it (superseded_by_id), so it must already exist
    # when the predecessor's row is checked.
    history.warnings.sort(key=lambda row: -row["id"])
    return history


def _event_row(plan: _Planned, settings: Settings, event_id: int, rng: random.Random, taken: set[str]) -> dict:
    process = plan.process
    kind = settings.events.kinds[process.kind]
    members = sorted((m for thread in plan.threads for m in thread), key=lambda m: (m.received, m.id))
    opening = next(m for m in members if m.msg_type in ("Alert", "Update") and m.event in kind.open_events
                   and _stronger(m.colour, kind.open_min_colour) >= 0)
    started = start_of(opening.sent, opening.sent, opening.received)  # onset = sent
    last_end = max(warning_end(LinkedWarning(m.status, m.closed_at, m.expires)) for m in members)
    name = event_name(kind.label, local_day(started), taken)
    taken.add(name)
    row = {"id": event_id, "kind": process.kind, "name": name, "status": "closed", "started_at": started,
           "ended_at": max(last_end, started), "opened_by": f"rule:{process.kind}", "opening_warning_id": opening.id,
           "closed_by": "rule", "close_reason": "quiet", "note": "", "created_at": opening.received}
    if process.closed_by_hand:
        row.update(ended_at=last_end + timedelta(minutes=rng.randint(60, 240)), closed_by=rng.choice(DUTY_OFFICERS),
                   close_reason="manual", note="雨情已结束，经会商研判手动结束本轮过程。")
    return row


def _fact(message: Message) -> WarningFact:
    """What the response rules look at of one active message; a district's share of the city comes from
    the script's areas (the live service measures boundaries, which the demo's synthetic ones would skew)."""
    cover = {unit.code: DISTRICT_AREAS[unit.code[:6]] / CITY_AREA * unit.fraction
             for unit in message.units if unit.level == "district"}
    return WarningFact(message.id, message.event, message.colour, message.received, cover)


DISTRICT_AREAS = {code: area for code, area in DISTRICTS.values()}


def _decisions(plan: _Planned, event: dict, settings: Settings, next_id: Ids, rng: random.Random) -> list[dict]:
    members = [m for thread in plan.threads for m in thread]
    main = plan.threads[0]
    rows: list[dict] = []
    level: int | None = None
    last_decided: datetime | None = None
    for decision in plan.process.decisions:
        trigger = main[decision.signal]
        moment = trigger.received
        proposal = propose(settings.response, [_fact(m) for m in members if m.active_at(moment)])
        proposed, rule = (proposal.level, proposal.rule) if proposal else (None, "")
        decided = moment + timedelta(minutes=rng.randint(20, 90))
        if last_decided is not None:
            decided = max(decided, last_decided + timedelta(minutes=10))
        last_decided = decided
        decider = DECIDERS[min(decision.level, level or 4)]
        label = LEVEL_LABELS[decision.level]
        notes = {"activate": f"经会商研判，决定启动防汛{label}应急响应。",
                 "upgrade": f"雨情发展，经会商研判，防汛应急响应提升至{label}。",
                 "downgrade": f"雨势减弱，经会商研判，防汛应急响应降至{label}。",
                 "terminate": f"降雨过程结束，经会商研判，终止防汛{label}应急响应。"}
        rows.append({"id": next_id(), "event_id": event["id"], "action": decision.action, "level": decision.level,
                     "previous_level": level, "proposed_level": proposed, "proposal_rule": rule,
                     "trigger_warning_id": trigger.id, "trigger_at": moment, "decided_by": decider,
                     "decided_at": decided, "recorded_by": rng.choice(DUTY_OFFICERS),
                     "recorded_at": decided + timedelta(minutes=rng.randint(2, 12)), "note": notes[decision.action],
                     "notice_warning_id": None})
        level = None if decision.action == "terminate" else decision.level
    return rows
