"""The demo year's response notices: each decision told to the departments as a source-"response" warning thread."""

from __future__ import annotations

import random
from datetime import timedelta

from fangxun.demo.history_build import Ids, Message
from fangxun.settings import Settings
from fangxun.warnings.events.config import DECISION_LABELS, LEVEL_LABELS
from fangxun.warnings.events.decisions import (LEVEL_SEVERITIES, NOTICE_EVENT, NOTICE_SENDER, NOTICE_SENDER_NAME,
                                               TERMINATED_NOTICE_LIFETIME, notice_departments, notice_text,
                                               notice_title)
from fangxun.warnings.events.response_rules import LEVEL_COLOURS
from fangxun.warnings.intake.normalised import NormalisedWarning, Reference
from fangxun.warnings.routing.recipients import Recipient
from fangxun.warnings.routing.tree import department_contact
from fangxun.warnings.vocabulary import RESPONSE_SOURCE


def notices(event: dict, decisions: list[dict], settings: Settings, warning_ids: Ids,
            rng: random.Random) -> tuple[list[Message], list[dict]]:
    """One notice per decision, as decisions.record_decision writes it (sent when the decision was recorded);
    each decision row gets its notice_warning_id. Returns the messages and their warnings rows."""
    config = settings.warnings
    messages: list[Message] = []
    rows: list[dict] = []
    for number, decision in enumerate(decisions, 1):
        action, level, previous = decision["action"], decision["level"], decision["previous_level"]
        before = messages[-1] if messages else None
        references = (Reference(before.sender, before.identifier, before.sent),) if before else ()
        sent = decision["recorded_at"]
        colour = LEVEL_COLOURS[level]
        title = notice_title(settings.response.template_title, action, level)
        expires = sent + TERMINATED_NOTICE_LIFETIME if action == "terminate" else None
        message = Message(id=warning_ids(), thread_id=before.thread_id if before else 0, station=NOTICE_SENDER,
                          event=NOTICE_EVENT, colour=colour, msg_type="Update" if before else "Alert", sent=sent,
                          received=sent, expires=expires, references=references, source=RESPONSE_SOURCE,
                          notice_identifier=f"fangxun-response-{event['id']}-{number}",
                          payload={"event_id": event["id"], "decision": action, "level": level})
        message.thread_id = message.thread_id or message.id
        if before is not None:
            before.status, before.closed_at, before.superseded_by_id = "superseded", sent, message.id
        if expires is not None:
            message.status, message.closed_at = "expired", expires + timedelta(seconds=rng.randint(5, 59))
        texts = {}
        for key in notice_departments(settings, action, level, previous):
            department = config.departments[key]
            desk = department_contact(department, "")
            template = f"response:{key}"
            configured = settings.response.level(level)
            actions = () if action == "terminate" or configured is None else configured.actions.get(key, ())
            texts[template] = [title, notice_text(action, level, previous, decision["decided_by"],
                                                  decision["decided_at"], actions, decision["note"],
                                                  config.quiet_hours.timezone)]
            message.recipients.append(Recipient("department", key, f"{department.name}（{desk.name}）", None, None,
                                                desk.channel, desk.address, template))
        decision["notice_warning_id"] = message.id
        normalised = NormalisedWarning(
            identifier=message.identifier, sender=NOTICE_SENDER, sent=sent, status="Actual", msg_type=message.msg_type,
            scope="Restricted", references=references, event=NOTICE_EVENT, colour=colour,
            severity=LEVEL_SEVERITIES[level], urgency="Immediate", certainty="Observed", onset=decision["decided_at"],
            expires=expires, headline=title,
            description=f"{event['name']}：{DECISION_LABELS[action]}{LEVEL_LABELS[level]}应急响应",
            instruction=decision["note"], sender_name=NOTICE_SENDER_NAME, language="zh-CN", areas=())
        document = {**normalised.as_json(), "response": {"event_id": event["id"], "action": action, "level": level,
                                                          "previous_level": previous,
                                                          "decided_by": decision["decided_by"]}}
        rows.append({"id": message.id, "identifier": message.identifier, "sender": NOTICE_SENDER, "sent": sent,
                     "msg_type": message.msg_type, "cap_status": "Actual", "scope": "Restricted",
                     "references": [r.as_json() for r in references], "event": NOTICE_EVENT, "colour": colour,
                     "severity": normalised.severity, "urgency": "Immediate", "certainty": "Observed",
                     "onset": decision["decided_at"], "expires": expires, "headline": title,
                     "description": normalised.description, "instruction": decision["note"],
                     "sender_name": NOTICE_SENDER_NAME, "language": "zh-CN", "areas": [], "document": document,
                     "raw": None, "messages": texts, "source": RESPONSE_SOURCE, "thread_id": message.thread_id,
                     "received_at": sent, "entered_by": decision["recorded_by"]})
        messages.append(message)
    # Statuses are known only once the next notice exists.
    for message, row in zip(messages, rows):
        row.update(status=message.status, closed_at=message.closed_at, superseded_by_id=message.superseded_by_id)
    return messages, rows
