"""Page sign-in sessions held on the server: the cookie names one by a random token (only its SHA-256 is kept), and
signing out deletes it, so a copy of the cookie taken before is refused afterwards."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.accounts import Principal, User, hash_token
from fangxun.core.db import Base, UTCDateTime


class PageSession(Base):
    """One signed-in browser: whose it is and until when."""

    __tablename__ = "page_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


async def start_session(session: AsyncSession, username: str, now: datetime, hours: float) -> str:
    """A new session of `username` for `hours` (sessions already over are cleared); its token, shown once."""
    await session.execute(delete(PageSession).where(PageSession.expires_at <= now))
    user_id = (await session.execute(select(User.id).where(User.username == username))).scalar_one()
    token = secrets.token_urlsafe(32)
    session.add(PageSession(token_hash=hash_token(token), user_id=user_id, created_at=now,
                            expires_at=now + timedelta(hours=hours)))
    await session.flush()
    return token


async def session_principal(session: AsyncSession, token: str, now: datetime) -> Principal | None:
    """The enabled user of an unexpired session that was not ended, with the current role; else None."""
    row = (await session.execute(
        select(User.username, User.role, User.disabled, User.department)
        .join(PageSession, PageSession.user_id == User.id)
        .where(PageSession.token_hash == hash_token(token), PageSession.expires_at > now))).first()
    if row is None or row.disabled:
        return None
    return Principal(name=f"user:{row.username}", role=row.role, department=row.department)


async def end_session(session: AsyncSession, token: str) -> bool:
    """End the session of `token` (signing out); False when there was none."""
    result = await session.execute(delete(PageSession).where(PageSession.token_hash == hash_token(token)))
    return result.rowcount > 0
