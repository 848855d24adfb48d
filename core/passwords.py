"""Password hashes: argon2id for new ones; older scrypt hashes still verify and are marked for an upgrade."""

from __future__ import annotations

import base64
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id at 64 MiB, 2 passes, 1 lane: above OWASP's minimum (19 MiB, t=2, p=1), ~0.1 s per check on one core,
# the cost the scrypt hashes had; the password executor's two threads bound memory to 128 MiB.
ARGON2_MEMORY_KIB, ARGON2_TIME_COST, ARGON2_PARALLELISM = 64 * 1024, 2, 1
HASHER = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM)
ARGON2_PREFIX, SCRYPT_PREFIX = "$argon2", "scrypt$"
SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str, salt: bytes | None = None) -> str:
    """An argon2id hash string (PHC format) carrying its parameters and salt; a random salt unless given."""
    return HASHER.hash(password, salt=salt)


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`, an argon2 hash or a scrypt one written before argon2id."""
    if stored.startswith(ARGON2_PREFIX):
        try:
            return HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError, ValueError):  # ValueError: text UTF-8 cannot encode
            return False
    if stored.startswith(SCRYPT_PREFIX):
        return _verify_scrypt(password, stored)
    return False


def needs_rehash(stored: str) -> bool:
    """True for a hash that is not argon2id at today's parameters (a scrypt one, or argon2 at other costs)."""
    if not stored.startswith(ARGON2_PREFIX):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    """The scrypt hashes of before: scrypt$N$r$p$salt$digest, base64."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), maxmem=SCRYPT_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
