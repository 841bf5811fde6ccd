"""argon2id password hashing."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["DUMMY_HASH", "hash_password", "verify_password"]

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as much time as a wrong password.
DUMMY_HASH = _hasher.hash("no such user: constant-time filler")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
