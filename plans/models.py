"""Tables of the registry: administrative units, plans, revisions, contacts and shelters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.db import Base, UTCDateTime, utcnow


class AdminUnit(Base):
    """An administrative unit (province, city, district, township or village) with its ancestors."""

    __tablename__ = "admin_units"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    # Ancestors copied at import so a subtree is one indexed equality, whatever its depth.
    province_code: Mapped[str | None] = mapped_column(String(12), index=True)
    city_code: Mapped[str | None] = mapped_column(String(12), index=True)
    district_code: Mapped[str | None] = mapped_column(String(12), index=True)
    township_code: Mapped[str | None] = mapped_column(String(12), index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary)
    geometry_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Plan(Base):
    """A contingency plan of one kind for one unit; status derives from the review clock."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("unit_code", "kind", name="uq_plans_unit_kind"),
        Index("ix_plans_kind_due", "kind", "next_review_due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Looked up by uq_plans_unit_kind, whose first column it is: no index of its own.
    unit_code: Mapped[str] = mapped_column(ForeignKey("admin_units.code"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    owner_org: Mapped[str] = mapped_column(String(200), default="")
    approved_on: Mapped[date | None] = mapped_column(Date)
    last_reviewed_on: Mapped[date | None] = mapped_column(Date)
    review_cycle_months: Mapped[int] = mapped_column(Integer)
    next_review_due: Mapped[date | None] = mapped_column(Date, index=True)
    lifecycle: Mapped[str] = mapped_column(String(12), default="active")
    version: Mapped[str] = mapped_column(String(20), default="1.0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlanRevision(Base):
    """One entry of a plan's history: creation, review, revision, withdrawal."""

    __tablename__ = "plan_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    revised_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(20), default="")
    entered_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Contact(Base):
    """A responsible person or duty desk of a unit (optionally of one plan)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("admin_units.code"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(20))
    channels: Mapped[dict] = mapped_column(JSON, default=dict)


class Shelter(Base):
    """An evacuation shelter (避险安置点) of a unit (optionally named in one plan)."""

    __tablename__ = "shelters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("admin_units.code"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)


class ContactAbsence(Base):
    """A person's absence (请假 or 出差) from one time to another, and who stands in (their AB角; none: the
    unit's 副责任人); cancelled, it stays as a record."""

    __tablename__ = "contact_absences"
    __table_args__ = (Index("ix_contact_absences_ends_at", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    deputy_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
