"""Reading the audit table: who changed what and when, newest first, filtered and paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fangxun.core.audit import AuditRecord
from fangxun.core.errors import BadInput

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class AuditFilter:
    """Which audit rows to read: all filters optional; `target_id` only with `target_type`."""

    target_type: str | None = None
    target_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    page: int = 1
    per_page: int = 50


def parse_target(text: str) -> tuple[str, str | None]:
    """`contact:12` -> ("contact", "12"); `contact` -> ("contact", None)."""
    kind, _, key = text.strip().partition(":")
    if not kind:
        raise BadInput(f"target：应为 类型 或 类型:编号，如 contact:12：“{text}”", extra={"field": "target"})
    return kind, key or None


def audit_view(row: AuditRecord) -> dict:
    """One audit row as JSON-ready values."""
    return {"id": row.id, "at": row.at.isoformat(), "actor": row.actor, "action": row.action,
            "target_type": row.target_type, "target_id": row.target_id, "before": row.before, "after": row.after}


async def list_audit(session: AsyncSession, wanted: AuditFilter) -> dict:
    """One page of audit rows (newest first) with the total matching."""
    if wanted.target_id is not None and wanted.target_type is None:
        raise BadInput("target_id：须同时给出 target_type", extra={"field": "target_id"})
    conditions = []
    if wanted.target_type is not None:
        conditions.append(AuditRecord.target_type == wanted.target_type)
    if wanted.target_id is not None:
        conditions.append(AuditRecord.target_id == wanted.target_id)
    if wanted.actor is not None:
        conditions.append(AuditRecord.actor == wanted.actor)
    if wanted.since is not None:
        conditions.append(AuditRecord.at >= wanted.since)
    total = (await session.execute(select(func.count()).select_from(AuditRecord).where(*conditions))).scalar_one()
    rows = (await session.execute(
        select(AuditRecord).where(*conditions).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
        .offset((wanted.page - 1) * wanted.per_page).limit(wanted.per_page))).scalars()
    return {"total": total, "page": wanted.page, "per_page": wanted.per_page, "items": [audit_view(r) for r in rows]}
