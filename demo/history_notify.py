"""The demo year's outbox: each warning's notices with delivery and 叫应, reminders, escalations, failures. Pure."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fangxun.demo.history_build import Ids, Message, Registry
from fangxun.settings import Settings
from fangxun.warnings.acks.escalation import escalation_note, escalation_prefix, follow_up_recipient, reminder_prefix
from fangxun.warnings.delivery.notices import (NewNotice, NoticeWriter, escalation_key, follow_up_payload, notice_key,
                                               notice_payload, reminder_key)
from fangxun.warnings.intake.lifecycle import CANCELLED_REASON, EXPIRED_REASON, SUPERSEDED_REASON
from fangxun.warnings.routing.deadlines import ack_deadline
from fangxun.warnings.routing.recipients import Recipient, person_address

DEAD_SHARE = 0.002  # deliveries that failed for good
DEAD_ERROR = "HTTP 503：消息网关繁忙（重试 6 次后放弃）"
RETRY_SECONDS = (2, 4, 8, 16, 32)
# (never answered, answered after the deadline, median minutes to answer) by recipient kind.
ACK_HABITS = {"department": (0.005, 0.012, 1.5), "person": (0.025, 0.035, 4.0)}
_CLOSING_REASON = {"superseded": SUPERSEDED_REASON, "cancelled": CANCELLED_REASON, "expired": EXPIRED_REASON}
_UP = {"village": "township", "township": "district"}


@dataclass
class Outbox:
    """Notification rows (notices first, then reminders and escalations that point at them) and the attempts."""

    notices: list[dict] = field(default_factory=list)
    derived: list[dict] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)


def stand_in_token(seed: int, key: str) -> str:
    """A unique stand-in for a history row's ack token, not of a token's form: nobody can acknowledge by it."""
    return f"demo-history:{seed}:{key}"


def _tick(rng: random.Random) -> timedelta:
    """The wait until the escalation job's next run (it runs every minute)."""
    return timedelta(seconds=rng.randint(5, 60))


def _ack_delay(rng: random.Random, kind: str, deadline_minutes: int, at: datetime) -> float | None:
    """Minutes to answer: most within a few minutes, a tail past the deadline, a few never (None)."""
    never, late, median = ACK_HABITS["department" if kind != "person" else "person"]
    if 0 <= (at.hour + 8) % 24 < 6:  # at night in Beijing people answer more slowly
        median *= 2
    draw = rng.random()
    if draw < never:
        return None
    if draw < never + late:
        return deadline_minutes * rng.uniform(1.02, 2.5)
    delay = rng.lognormvariate(math.log(median), 0.8)
    return delay if delay < deadline_minutes else deadline_minutes * rng.uniform(0.3, 0.95)


class _Builder:
    """Walks the messages in order, writing each notice's fate and collecting escalations by target."""

    def __init__(self, registry: Registry, settings: Settings, seed: int, rng: random.Random, ids: Ids,
                 attempt_ids: Ids):
        self.registry, self.settings, self.seed, self.rng = registry, settings, seed, rng
        self.ids, self.attempt_ids = ids, attempt_ids
        self.config = settings.warnings
        self.writer = NoticeWriter(lambda key: stand_in_token(seed, key), self.config.quiet_hours)
        self.outbox = Outbox()
        # (warning id, step, reason, target slot) -> [source row, when]
        self.escalations: dict[tuple, list] = {}

    def row(self, notice: NewNotice, created: datetime) -> dict:
        """The outbox row of `notice` made at `created`, with the next id."""
        row = self.writer.row(notice, created)
        row["id"] = self.ids()
        return row

    def deliver(self, row: dict, message: Message, due: datetime, quick: bool) -> bool:
        """Send the row at `due`: delivered, dead after its retries, or cancelled unsent when the warning
        ended first. True when delivered."""
        ended = message.closed_at if message.msg_type != "Cancel" else None
        if ended is not None and due >= ended:
            row.update(status="cancelled", next_attempt_at=due, last_error=_CLOSING_REASON[message.status])
            return False
        if self.rng.random() < DEAD_SHARE:
            at = due
            for wait in RETRY_SECONDS + (0,):
                self.outbox.attempts.append({"id": self.attempt_ids(), "notification_id": row["id"], "at": at,
                                             "ok": False, "retry": wait > 0, "status": 503,
                                             "detail": "消息网关繁忙", "worker": "dispatcher-1"})
                at += timedelta(seconds=wait)
            row.update(status="dead", attempts=len(RETRY_SECONDS) + 1, next_attempt_at=None, last_error=DEAD_ERROR,
                       delivered_at=None)
            row["_failed_at"] = at
            return False
        delivered = due + timedelta(seconds=self.rng.randint(1, 5 if quick else 20))
        row.update(status="delivered", attempts=1, next_attempt_at=due, delivered_at=delivered,
                   ack_deadline=ack_deadline(message.colour, delivered, self.config, message.msg_type == "Cancel"))
        return True

    def answer(self, row: dict, at: datetime | None, via: str) -> None:
        """Record 叫应 at `at` (None: never), late when past the row's deadline."""
        if at is not None:
            deadline = row["ack_deadline"]
            row.update(acked_at=at, acked_via=via, acked_late=deadline is not None and at > deadline)

    def notices(self, message: Message) -> None:
        """The first notices of one message, each delivered, answered or not, and what followed."""
        minutes = self.config.ack_deadline_minutes.minutes(message.colour)
        for number, recipient in enumerate(message.recipients):
            created = message.received + timedelta(milliseconds=5 * number)
            payload = notice_payload(message, recipient.template, recipient.role, **message.payload)
            row = self.row(NewNotice(message.id, recipient, payload, notice_key(message.id, recipient)), created)
            self.outbox.notices.append(row)
            escalable = message.msg_type != "Cancel"
            if recipient.problem:
                if escalable:
                    self.escalate(row, message, created + _tick(self.rng), "无法送达")
                continue
            if not self.deliver(row, message, row["next_attempt_at"], recipient.kind != "person"):
                failed_at = row.pop("_failed_at", None)
                if failed_at is not None and escalable:
                    self.escalate(row, message, failed_at + _tick(self.rng), "无法送达")
                continue
            delay = _ack_delay(self.rng, recipient.kind, minutes, row["delivered_at"])
            acked = None if delay is None else row["delivered_at"] + timedelta(seconds=round(delay * 60))
            via = "api" if recipient.kind == "department" and self.rng.random() < 0.3 else "page"
            self.answer(row, acked, via)
            if not escalable or (acked is not None and acked <= row["ack_deadline"]):
                continue
            self.remind(row, message, recipient, acked, via)

    def remind(self, row: dict, message: Message, recipient: Recipient, acked: datetime | None, via: str) -> None:
        """A reminder when the deadline passed unanswered while the warning was still in force, then escalation."""
        when = row["ack_deadline"] + _tick(self.rng)
        if not message.active_at(when):
            return
        row["reminders_sent"] = 1
        payload = follow_up_payload(row["payload"], "reminder", reminder_prefix(1), keep_role=True)
        reminder = self.row(NewNotice(message.id, recipient, payload, reminder_key(message.id, row["id"], 1),
                                      "reminder", row["escalation_step"], row["id"]), when)
        self.outbox.derived.append(reminder)
        if not self.deliver(reminder, message, reminder["next_attempt_at"], recipient.kind != "person"):
            reminder.pop("_failed_at", None)
            return
        if acked is not None and acked >= reminder["delivered_at"]:
            self.answer(reminder, acked, via)
        if acked is None or acked > reminder["ack_deadline"]:
            self.escalate(row, message, reminder["ack_deadline"] + _tick(self.rng), "逾期未叫应")

    def escalate(self, row: dict, message: Message, when: datetime, reason: str) -> None:
        """Queue `row` for escalation at `when`, if its warning was still in force and someone is one step up."""
        if not message.active_at(when):
            return
        targets = self.targets(row)
        if not targets:
            return
        row["escalated_at"] = when
        for target in targets:
            group = self.escalations.setdefault((message.id, row["escalation_step"] + 1, reason, target), [])
            group.append((row, when))

    def targets(self, row: dict) -> list[Recipient]:
        """Who is one step up: village -> township -> district 责任人 -> the city duty desk; a desk -> its leader."""
        config = self.config
        if row["recipient_kind"] == "department":
            department = config.departments[row["recipient_key"]]
            leader = department.leader
            return [follow_up_recipient("department_leader", row["recipient_key"],
                                        f"{department.name}（{leader.name}）", None, row["recipient_key"],
                                        leader.channel, leader.address)]
        if row["recipient_kind"] != "person":
            return []
        up = _UP.get(row["level"])
        if up is None:
            desk = config.escalation.city_duty_desk
            return [follow_up_recipient("duty_desk", "city", desk.name, None, "city", desk.channel, desk.address)]
        unit = self.registry.units.get(row["unit_code"])
        code = getattr(unit, f"{up}_code", None) if unit else None
        kind = config.channels[row["channel"]].kind
        return [follow_up_recipient("person", f"{code}:{p.id}", p.name, code, up, row["channel"],
                                    person_address(p.channels, p.phone, row["channel"], kind))
                for p in self.registry.persons.get(code, [])] if code else []

    def escalation_rows(self, messages: dict[int, Message]) -> None:
        """One escalation per target for each warning and step, naming everyone who did not answer."""
        for (warning_id, step, reason, target), sources in self.escalations.items():
            message = messages[warning_id]
            first = sources[0][0]
            when = max(at for _, at in sources)
            payload = follow_up_payload(first["payload"], "escalation", escalation_prefix(reason),
                                        note=escalation_note([source["recipient_name"] for source, _ in sources],
                                                             reason),
                                        sources=[source["id"] for source, _ in sources])
            row = self.row(NewNotice(warning_id, target, payload, escalation_key(warning_id, step, target, first["id"]),
                                     "escalation", step, first["id"]), when)
            self.outbox.derived.append(row)
            if target.problem or not self.deliver(row, message, row["next_attempt_at"], True):
                row.pop("_failed_at", None)
                continue
            minutes = self.config.ack_deadline_minutes.minutes(message.colour)
            late = self.rng.random() < 0.06
            delay = minutes * self.rng.uniform(1.05, 1.8) if late else min(
                self.rng.lognormvariate(math.log(3), 0.7), minutes * 0.9)
            self.answer(row, row["delivered_at"] + timedelta(seconds=round(delay * 60)), "page")


def build_outbox(messages: list[Message], registry: Registry, settings: Settings, seed: int, rng: random.Random,
                 ids: Ids, attempt_ids: Ids) -> Outbox:
    """Every notification of the year's messages, in id order within notices and within derived rows."""
    builder = _Builder(registry, settings, seed, rng, ids, attempt_ids)
    ordered = sorted(messages, key=lambda m: m.id)
    for message in ordered:
        builder.notices(message)
    builder.escalation_rows({m.id: m for m in ordered})
    return builder.outbox
