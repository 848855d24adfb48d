"""Passwords: argon2id at OWASP's parameters or stronger; scrypt hashes of before still sign in and are replaced by
argon2id at the first successful sign-in, off the event loop."""

from __future__ import annotations

import base64
import hashlib
import os

from argon2 import PasswordHasher
from argon2.low_level import Type
from sqlalchemy import select, update
from support.api_fixtures import PASSWORD, record_password_work, sign_in

from fangxun.core.accounts import User, create_user, store_upgraded_hash
from fangxun.core.audit import AuditRecord
from fangxun.core.passwords import hash_password, needs_rehash, verify_password

# OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB of memory, 2 iterations, 1 degree of parallelism.
OWASP_MEMORY_KIB, OWASP_TIME_COST = 19 * 1024, 2


def old_scrypt_hash(password: str) -> str:
    """A hash as fangxun wrote them before argon2id (scrypt N=2^15, r=8, p=1), made here apart from the code."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**15, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt$32768$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def parameters(stored: str) -> dict[str, int]:
    """m, t and p of a PHC argon2 string: $argon2id$v=19$m=…,t=…,p=…$salt$hash."""
    return {key: int(value) for key, value in (part.split("=") for part in stored.split("$")[3].split(","))}


def test_new_hashes_are_argon2id_at_owasp_parameters_or_stronger():
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$")
    found = parameters(stored)
    assert found["m"] >= OWASP_MEMORY_KIB and found["t"] >= OWASP_TIME_COST and found["p"] >= 1
    assert verify_password(PASSWORD, stored) and not verify_password(PASSWORD + "x", stored)
    assert hash_password(PASSWORD) != stored  # a new salt each time
    assert not needs_rehash(stored)
    # The hash is standard argon2id: another implementation's reading of it agrees.
    assert PasswordHasher().verify(stored, PASSWORD)


def test_old_scrypt_hashes_verify_and_need_an_upgrade():
    stored = old_scrypt_hash(PASSWORD)
    assert verify_password(PASSWORD, stored)
    assert not verify_password("wrong-password-1", stored)
    assert needs_rehash(stored)


def test_weaker_argon2_hashes_verify_and_need_an_upgrade():
    for weak in (PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),
                 PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.I)):
        stored = weak.hash(PASSWORD)
        assert verify_password(PASSWORD, stored) and not verify_password("wrong-password-1", stored)
        assert needs_rehash(stored)


def test_malformed_hashes_never_match():
    for stored in ("", "plain-text-password", "scrypt$", "scrypt$x$8$1$AAAA$AAAA", "$argon2id$v=19$m=1$x$y",
                   "$argon2id$garbage", "md5$abc", PASSWORD):
        assert not verify_password(PASSWORD, stored), stored
        assert needs_rehash(stored)
    assert not verify_password("\udcff", hash_password(PASSWORD))  # text UTF-8 cannot encode


async def _stored_hash(sessions, username: str) -> str:
    async with sessions() as session:
        return (await session.execute(select(User.password_hash).where(User.username == username))).scalar_one()


async def _set_hash(sessions, username: str, stored: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == username).values(password_hash=stored))


async def test_a_scrypt_user_signs_in_and_is_upgraded_to_argon2id(client, sessions, user):
    old = old_scrypt_hash(PASSWORD)
    await _set_hash(sessions, user, old)

    assert (await sign_in(client, user, "wrong-password-1")).status == 401
    assert await _stored_hash(sessions, user) == old  # a wrong password upgrades nothing

    off_loop = record_password_work(client.app)
    response = await sign_in(client, user, PASSWORD)
    assert response.status == 303
    # The scrypt check and the argon2id hash both ran in the password thread pool, not on the event loop.
    assert off_loop == ["_verify", "hash_password"]

    upgraded = await _stored_hash(sessions, user)
    assert upgraded.startswith("$argon2id$") and verify_password(PASSWORD, upgraded) and not needs_rehash(upgraded)
    async with sessions() as session:
        user_id = (await session.execute(select(User.id).where(User.username == user))).scalar_one()
        audits = (await session.execute(select(AuditRecord).where(AuditRecord.action == "user.password_rehash")))
        audits = audits.scalars().all()
    assert [(a.target_id, a.before, a.after) for a in audits] == [
        (str(user_id), {"scheme": "scrypt"}, {"scheme": "argon2id"})]

    # The next sign-in checks the argon2id hash and leaves it as it is.
    client.session.cookie_jar.clear()
    assert (await sign_in(client, user, PASSWORD)).status == 303
    assert (await sign_in(client, user, "wrong-password-1")).status == 401
    assert await _stored_hash(sessions, user) == upgraded


async def test_a_disabled_scrypt_user_is_neither_signed_in_nor_upgraded(client, sessions, user):
    old = old_scrypt_hash(PASSWORD)
    async with sessions() as session, session.begin():
        await session.execute(update(User).where(User.username == user).values(password_hash=old, disabled=True))
    assert (await sign_in(client, user, PASSWORD)).status == 401
    assert await _stored_hash(sessions, user) == old


async def test_an_upgrade_never_overwrites_a_password_changed_meanwhile(sessions):
    async with sessions() as session, session.begin():
        user = await create_user(session, "duty02", PASSWORD, "editor")
    old = old_scrypt_hash(PASSWORD)
    await _set_hash(sessions, "duty02", old)
    changed = hash_password("another-password-2")
    await _set_hash(sessions, "duty02", changed)  # an admin reset the password between check and upgrade
    async with sessions() as session, session.begin():
        assert not await store_upgraded_hash(session, user.id, old, hash_password(PASSWORD))
    assert await _stored_hash(sessions, "duty02") == changed
    async with sessions() as session, session.begin():
        assert await store_upgraded_hash(session, user.id, changed, hash_password("another-password-2"))
    assert verify_password("another-password-2", await _stored_hash(sessions, "duty02"))
