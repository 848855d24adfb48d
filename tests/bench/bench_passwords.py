"""Password hashing benchmark: the time of one argon2id hash and check at fangxun's parameters, at OWASP's minimum,
and of the scrypt check of the hashes written before (which an upgrading sign-in also pays once).

Prints the median and the slowest of --runs (10) of each, in milliseconds.
Run: .venv/bin/python tests/bench/bench_passwords.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import time

from argon2 import PasswordHasher

from fangxun.core.passwords import (ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, ARGON2_TIME_COST, hash_password,
                                    verify_password)

PASSWORD = "correct-horse-battery"


def timed(action, runs: int) -> tuple[float, float]:
    """Median and slowest time of `action` in milliseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    stored = hash_password(PASSWORD)
    owasp = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    salt = os.urandom(16)
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**15, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32)
    old = f"scrypt$32768$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    ours = f"argon2id m={ARGON2_MEMORY_KIB // 1024} MiB t={ARGON2_TIME_COST} p={ARGON2_PARALLELISM} (fangxun)"
    rows = [
        (f"{ours}: hash", lambda: hash_password(PASSWORD)),
        (f"{ours}: check", lambda: verify_password(PASSWORD, stored)),
        ("argon2id m=19 MiB t=2 p=1 (OWASP minimum): hash", lambda: owasp.hash(PASSWORD)),
        ("scrypt N=2^15 r=8 p=1 (before): check", lambda: verify_password(PASSWORD, old)),
    ]
    for label, action in rows:
        median, slowest = timed(action, runs)
        print(f"{label:<50} median {median:6.1f} ms   slowest {slowest:6.1f} ms")


if __name__ == "__main__":
    main()
