"""The audit table: who changed what, with the state before and after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.db import Base, UTCDateTime, utcnow


class AuditRecord(Base):
    """One write made through the service (API, CLI or import)."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_target", "target_type", "target_id"),
                      Index("ix_audit_records_actor", "actor"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str] = mapped_column(String(50), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


def audit_row(actor: str, action: str, target_type: str, target_id: object = "", before: dict | None = None,
              after: dict | None = None, at: datetime | None = None) -> dict:
    """One audit row as values for record_many (actor and target cut to their columns' lengths)."""
    return {"at": at or utcnow(), "actor": actor[:100], "action": action, "target_type": target_type,
            "target_id": str(target_id)[:50], "before": before, "after": after}


async def record_many(session: AsyncSession, rows: list[dict]) -> None:
    """Add many audit rows (made by audit_row) in the caller's transaction, in one batch."""
    if rows:
        # render_nulls keeps one batch: rows with and without `before` would otherwise split it.
        await session.execute(insert(AuditRecord).execution_options(render_nulls=True), rows)


async def record(session: AsyncSession, actor: str, action: str, target_type: str,
                 target_id: object = "", before: dict | None = None, after: dict | None = None) -> None:
    """Add an audit row in the caller's transaction."""
    await session.execute(insert(AuditRecord).values(**audit_row(actor, action, target_type, target_id, before, after)))
