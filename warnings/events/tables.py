"""Tables of events, the warnings they group, response decisions and the append-only journal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.db import Base, UTCDateTime, utcnow

EVENT_STATUSES = ("open", "closed")
EVENT_STATUS_LABELS = {"open": "进行中", "closed": "已结束"}
CLOSE_REASON_LABELS = {"manual": "人工结束", "quiet": "预警全部结束后自动结束"}


class Event(Base):
    """One weather process (降雨过程 or 雨雪冰冻) and how it was answered."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_status", "kind", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # rainfall | snow_ice
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="open")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "rule:<kind>" when a warning opened it, else the principal's name.
    opened_by: Mapped[str] = mapped_column(String(100))
    opening_warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    # "manual" or "quiet" (all warnings ended and the quiet period passed).
    close_reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventWarning(Base):
    """A warning's membership of an event (a warning belongs to at most one)."""

    __tablename__ = "event_warnings"

    warning_id: Mapped[int] = mapped_column(ForeignKey("warnings.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # "rule" (by its type, or as part of a thread already in the event) or the principal who linked it.
    joined_by: Mapped[str] = mapped_column(String(100), default="rule")


class ResponseDecision(Base):
    """A person's decision (会商研判) on the emergency response level of an event."""

    __tablename__ = "response_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))  # activate | upgrade | downgrade | terminate
    # 1..4 (Ⅰ highest); for terminate, the level that ended.
    level: Mapped[int] = mapped_column(Integer)
    previous_level: Mapped[int | None] = mapped_column(Integer)
    # What the rules proposed when the decision was recorded (None: nothing proposed), and which rule.
    proposed_level: Mapped[int | None] = mapped_column(Integer)
    proposal_rule: Mapped[str] = mapped_column(String(200), default="")
    trigger_warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"))
    # When the triggering warning was received; decided_at - trigger_at is the time to decide.
    trigger_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    # The notice sent to the departments: a warnings row with source "response" (same outbox, 叫应).
    notice_warning_id: Mapped[int | None] = mapped_column(ForeignKey("warnings.id"))


class JournalEntry(Base):
    """A department's or unit's report against an event. Append-only: the database refuses UPDATE and
    DELETE, and on SQLite REPLACE (migrations 0003, 0008 install triggers); a correction is a new entry naming
    the one it corrects."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)  # server time, never the client's
    author: Mapped[str] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(50))
    unit_code: Mapped[str | None] = mapped_column(String(12))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    action: Mapped[str] = mapped_column(Text, default="")
    evacuated: Mapped[int | None] = mapped_column(Integer)
    shelters_opened: Mapped[int | None] = mapped_column(Integer)
    housed: Mapped[int | None] = mapped_column(Integer)
    roads_closed: Mapped[int | None] = mapped_column(Integer)
    rescues: Mapped[int | None] = mapped_column(Integer)
    deaths: Mapped[int | None] = mapped_column(Integer)
    missing: Mapped[int | None] = mapped_column(Integer)
    injured: Mapped[int | None] = mapped_column(Integer)
    economic_loss: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")
