"""The duty roster table: one row per desk, duty day and 班次."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.db import Base, UTCDateTime, utcnow


class DutyRosterEntry(Base):
    """Who is on duty at a desk (city duty room or a department) for one 班次 of one duty day."""

    __tablename__ = "duty_roster"
    __table_args__ = (UniqueConstraint("desk", "duty_date", "shift", name="uq_duty_roster_desk_day_shift"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    desk: Mapped[str] = mapped_column(String(64))
    duty_date: Mapped[date] = mapped_column(Date, index=True)
    shift: Mapped[str] = mapped_column(String(8))
    officer_name: Mapped[str] = mapped_column(String(50))
    officer_phone: Mapped[str] = mapped_column(String(32))
    leader_name: Mapped[str] = mapped_column(String(50))
    leader_phone: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
