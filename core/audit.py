"""The audit table: who changed what, with the state before and after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.db import Base, UTCDateTime, utcnow


class AuditRecord(Base):
    """One write made through the service (API, CLI or import)."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str] = mapped_column(String(50), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


async def record(session: AsyncSession, actor: str, action: str, target_type: str,
                 target_id: object = "", before: dict | None = None, after: dict | None = None) -> None:
    """Add an audit row in the caller's transaction."""
    await session.execute(insert(AuditRecord).values(
        at=utcnow(), actor=actor, action=action, target_type=target_type,
        target_id=str(target_id), before=before, after=after))
