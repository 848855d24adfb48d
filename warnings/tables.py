"""Tables of warnings, the units they cover, the 叫应 drills, the notification outbox, its send attempts and its
voice calls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint,
                        false)
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.db import Base, UTCDateTime, utcnow


class Warning(Base):  # DESIGN.md's name; it hides the builtin Warning only where imported
    """One CAP message (Alert, Update or Cancel) as accepted, with its place in a thread."""

    __tablename__ = "warnings"
    __table_args__ = (
        UniqueConstraint("identifier", "sender", "sent", name="uq_warnings_identity"),
        Index("ix_warnings_status_expires", "status", "expires"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255))
    sent: Mapped[datetime] = mapped_column(UTCDateTime)
    msg_type: Mapped[str] = mapped_column(String(10))
    cap_status: Mapped[str] = mapped_column(String(10), default="Actual")
    scope: Mapped[str] = mapped_column(String(10), default="Public")
    # [{"sender", "identifier", "sent"}] as given, whether or not we hold them.
    references: Mapped[list] = mapped_column(JSON, default=list)
    event: Mapped[str] = mapped_column(String(50))
    colour: Mapped[str | None] = mapped_column(String(10))
    severity: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(20))
    certainty: Mapped[str | None] = mapped_column(String(20))
    onset: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # <expires> was absent: `expires` is the configured lifetime after the start.
    expires_assumed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    headline: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    instruction: Mapped[str] = mapped_column(Text, default="")
    sender_name: Mapped[str] = mapped_column(String(255), default="")
    language: Mapped[str] = mapped_column(String(20), default="")
    areas: Mapped[list] = mapped_column(JSON, default=list)
    # Where the areas fall: "inside" our jurisdiction, "outside" it (stored, routed to nobody, never in
    # force), or "unlocated" (no area could be placed: the city duty desk assigns units by hand).
    jurisdiction: Mapped[str] = mapped_column(String(10), default="inside", server_default="inside")
    # A Cancel, an AllClear or a 解除: ends its thread, never in force itself.
    all_clear: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Chinese notes kept from intake (a shape that could not be read, an assumed expiry …).
    notes: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # The normalised warning as JSON, and the document it came from (CAP XML or the form's JSON).
    document: Mapped[dict] = mapped_column(JSON, default=dict)
    raw: Mapped[str | None] = mapped_column(Text)
    # {template: [title, text]} rendered once for every recipient, with slots for the recipient's name
    # and the ack link (see fangxun.warnings.delivery.outbox.compose); notifications name their template.
    messages: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(20), default="cap")
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    # The first warning of the 递进式 chain (its own id for an Alert); Updates and Cancels share it.
    thread_id: Mapped[int | None] = mapped_column(Integer, index=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entered_by: Mapped[str] = mapped_column(String(100), default="")


class WarningUnit(Base):
    """A unit a warning covers, with the fraction of the unit's area under it (1.0 for geocodes)."""

    __tablename__ = "warning_units"

    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(12), primary_key=True, index=True)
    level: Mapped[str] = mapped_column(String(10))
    fraction: Mapped[float] = mapped_column(Float, default=1.0)


class Drill(Base):
    """A 叫应 drill (演练): every 责任人 and desk of a scope told through their real channels, marked 【演练】."""

    __tablename__ = "drills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope_code: Mapped[str] = mapped_column(String(12))
    scope_name: Mapped[str] = mapped_column(String(100), default="")
    levels: Mapped[list] = mapped_column(JSON, default=list)  # drills.rules.LEVELS chosen
    channels: Mapped[list] = mapped_column(JSON, default=list)  # person channels chosen
    deadline_minutes: Mapped[int] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # When its reminders and escalations stopped (the follow-up window closed), or it was called off.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # At start: persons and desks told, notifications written, persons with no address on any channel,
    # units of a chosen level with nobody on record.
    told: Mapped[int] = mapped_column(Integer, default=0)
    notifications: Mapped[int] = mapped_column(Integer, default=0)
    no_contact: Mapped[int] = mapped_column(Integer, default=0)
    units_without_persons: Mapped[int] = mapped_column(Integer, default=0)


class Notification(Base):
    """One message to one recipient on one channel: the durable outbox row and its 叫应 state."""

    __tablename__ = "notifications"
    __table_args__ = (
        # Claims walk these in order: due rows of one channel (most urgent colour first), and rows
        # whose lease lapsed.
        Index("ix_notifications_due", "status", "channel", "priority", "next_attempt_at"),
        Index("ix_notifications_lease", "status", "lease_until"),
        Index("ix_notifications_ack_due", "acked_at", "ack_deadline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None for a notice of no warning (a plan review reminder, a drill's message).
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"), index=True)
    # The drill a message belongs to (its warning_id is None): never counted for any warning.
    drill_id: Mapped[int | None] = mapped_column(ForeignKey("drills.id"), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    # department key, or "<unit code>:<contact id>" for persons and duty desks
    recipient_key: Mapped[str] = mapped_column(String(100))
    recipient_name: Mapped[str] = mapped_column(String(100), default="")
    unit_code: Mapped[str | None] = mapped_column(String(12))
    level: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(12), default="notice")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # 0 red, 1 orange, 2 yellow or uncoloured, 3 blue, then reminders and escalations 4–7 by the same colours:
    # claimed in this order (vocabulary.priority).
    priority: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="2")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    ack_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ack_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_via: Mapped[str | None] = mapped_column(String(50))
    acked_late: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    escalated_from_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    # When escalate_due stepped up from this notification (so a second run does not step again).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # escalate_due need not look at the row again before this (waiting on a reminder, or nobody above).
    ack_check_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the holder just before it asks the channel, cleared with the outcome: a row still marked when
    # its holder stopped may have gone out, and is recorded as an attempt of unknown outcome (outbox.settle_begun).
    attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationAttempt(Base):
    """One try at sending a notification, as the channel answered it."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    retry: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")


class DispatchWorker(Base):
    """A running dispatcher and its heartbeat; one whose heartbeat stops has its rows taken over."""

    __tablename__ = "dispatch_workers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the worker id rows are claimed by
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last heartbeat in seconds since 1970 by the database's clock (core.db_clock): no host's clock
    # is compared with another's.
    beat_at: Mapped[float] = mapped_column(Float)


class CallAttempt(Base):
    """One voice call of a notification: on disk before its request goes out, then the gateway's result.

    `status`: requested (no result yet), answered, no_answer, busy, rejected, failed (also: the gateway
    refused the request, see `request_error`), hung_up_early (answered, shorter than the channel's
    min_heard_seconds, no key 1). Calls of one notification are numbered in order (`call_number`); a
    result arriving late for an older call only fills in that call's row.
    """

    __tablename__ = "call_attempts"
    __table_args__ = (UniqueConstraint("notification_id", "call_number", name="uq_call_attempts_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    # Derived from the notification's idempotency key and the call number (voice_protocol.call_id).
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    call_number: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(50))
    to_number: Mapped[str] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the gateway answered the request 2xx (it took the call).
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last refusal or transport error of the request, if any.
    request_error: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    answered: Mapped[bool | None] = mapped_column(Boolean)
    duration_s: Mapped[float | None] = mapped_column(Float)
    keys: Mapped[str] = mapped_column(String(32), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the result callback was recorded (the first one: a repeated callback changes nothing).
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The callback's body as received.
    callback: Mapped[str | None] = mapped_column(Text)


class WarningExpansion(Base):
    """The cursor of writing a warning's notifications in chunks after it is accepted (intake/expansion.py): the
    time its recipients are worked out for, how far it has got, and who is writing it under a lease."""

    __tablename__ = "warning_expansions"

    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id"), primary_key=True)
    # Stand-ins for absent persons and the duty roster are those of this time (the warning's acceptance).
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What accepting fixed: the warnings told before (an Update or all-clear tells them again), the template of
    # those told again, and the template chosen for each routed one.
    plan: Mapped[dict] = mapped_column(JSON, default=dict)
    written: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    unreachable: Mapped[int] = mapped_column(Integer, default=0)
    units_done: Mapped[int] = mapped_column(Integer, default=0)
    units_total: Mapped[int] = mapped_column(Integer, default=0)
    units_without_persons: Mapped[list] = mapped_column(JSON, default=list)
    # The order key (urgency.OrderKey) of the last recipient written; None before the first chunk.
    last_key: Mapped[list | None] = mapped_column(JSON)
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Why it stopped before the end (the warning was superseded, cancelled or expired); None when it finished.
    stopped: Mapped[str | None] = mapped_column(String(100))
