"""argon2id password hashing."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["DUMMY_HASH", "hash_off_loop", "hash_password", "verify_off_loop", "verify_password"]

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as much time as a wrong password. Written
# out rather than hashed at import (that cost every `hospital` process half a second); its cost parameters are the
# hasher's (tests/unit/test_fast_start.py checks).
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$2MR3t/sbA76DCzGmtfCb8Q$PEpDyKYnYv33YUyavyPa/J4YDHfj2xWrqNdrsaqE82Q"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# argon2 at its production cost takes about 0.5 s of a core and releases the GIL: in a thread, a log-in or a
# registration no longer stalls every other request of the process (and the demo seed no longer stalls /health).
async def hash_off_loop(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_off_loop(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)
