"""API tokens, page users and the signing secret: stored hashed, checked in constant time."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fangxun.core.audit import record
from fangxun.core.db import Base, UTCDateTime, utcnow
from fangxun.core.errors import BadInput, Conflict
from fangxun.core.passwords import hash_password
from fangxun.core.roles import ROLES

TOKEN_PREFIX = "fx_"
MIN_PASSWORD_LENGTH = 10


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(100), default="")
    # A department key of [warnings.departments]: the token writes journal entries for it only.
    department: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class User(Base):
    """A person who signs in to the pages."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    department: Mapped[str | None] = mapped_column(String(50))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppSecret(Base):
    """Generated secrets shared by every process on the same database."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


@dataclass(frozen=True)
class Principal:
    """Who is acting: a token, a signed-in user or the command line."""

    name: str
    role: str
    # Set for a department's token or user: journal entries only for this department.
    department: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role in ("editor", "admin")

    def can_report_for(self, department: str | None) -> bool:
        """May write journal entries for `department` (None: the command itself, no department)."""
        if self.role not in ("reporter", "editor", "admin"):
            return False
        return self.department is None or self.department == department


CLI_PRINCIPAL = Principal(name="cli", role="admin")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadInput(f"未知角色 {role!r}，可选：{', '.join(ROLES)}")


def hash_token(token: str) -> str:
    """SHA-256 hex of a token (tokens are random, so no salt or slow KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(session: AsyncSession, role: str, label: str = "", actor: str = "cli",
                       department: str | None = None) -> str:
    """Store a new token's hash and return the token itself (shown once); `department` scopes it."""
    _check_role(role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=hash_token(token), role=role, label=label, department=department)
    session.add(row)
    await session.flush()
    await record(session, actor, "token.create", "api_token", row.id,
                 after={"role": role, "label": label, "department": department})
    return token


async def principal_for_token(session: AsyncSession, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (await session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
    )).scalar_one_or_none()
    if row is None:
        return None
    return Principal(name=f"token:{row.id}:{row.label}" if row.label else f"token:{row.id}", role=row.role,
                     department=row.department)


async def create_user(session: AsyncSession, username: str, password: str, role: str,
                      actor: str = "cli", department: str | None = None) -> User:
    """Add a page user; the password is stored as an argon2id hash; `department` scopes journal writes."""
    _check_role(role)
    username = username.strip()
    if not username or len(username) > 50:
        raise BadInput("用户名不能为空，且不超过 50 个字符")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符")
    if (await session.execute(select(User.id).where(User.username == username))).first():
        raise Conflict(f"用户 {username} 已存在")
    user = User(username=username, password_hash=hash_password(password), role=role, department=department)
    session.add(user)
    await session.flush()
    await record(session, actor, "user.create", "user", user.id,
                 after={"username": username, "role": role, "department": department})
    return user


async def store_upgraded_hash(session: AsyncSession, user_id: int, old_hash: str, new_hash: str) -> bool:
    """Put `new_hash` in place of the user's older `old_hash` (not if the password changed meanwhile)."""
    result = await session.execute(update(User).where(User.id == user_id, User.password_hash == old_hash)
                                   .values(password_hash=new_hash))
    if result.rowcount != 1:
        return False
    await record(session, "system", "user.password_rehash", "user", user_id,
                 before={"scheme": old_hash.lstrip("$").split("$")[0]}, after={"scheme": "argon2id"})
    return True


async def signing_secret(session: AsyncSession) -> bytes:
    """$FANGXUN_SECRET_KEY, else the database's generated session key (created on first use)."""
    if env := os.environ.get("FANGXUN_SECRET_KEY"):
        return env.encode()
    row = await session.get(AppSecret, "session_key")
    if row is None:
        row = AppSecret(name="session_key", value=secrets.token_hex(32))
        session.add(row)
        await session.flush()
    return row.value.encode()
