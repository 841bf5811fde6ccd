"""Short-lived ES256 access tokens (python-jose, cryptography backend).

The algorithm is always passed explicitly on decode, so `alg: none` and an HS256 token forged with the public
key are refused. A practice session (FACE-02) is a token that also carries `face_verified_at`. `auth_time` is
when the password log-in happened: a renewed token keeps it, so a session cannot be renewed for ever. `sid` names
the log-in session (`identity.models.AuthSession`) the token belongs to: a token is good only while its session is
open and it is the session's current token (`identity.sessions`, on every request).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import JWTError, jwt

from hospital.core.errors import NotAuthenticated

__all__ = ["Principal", "TokenIssuer", "load_or_create_signing_key"]

ALGORITHM = "ES256"
ISSUER = "reference-internet-hospital"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as the token says: who, in which role, and since when face-verified (if at all)."""

    user_id: uuid.UUID
    role: str
    token_id: str
    expires_at: datetime
    face_verified_at: datetime | None = None
    practice_session_id: uuid.UUID | None = None
    authenticated_at: datetime | None = None  # the password log-in this session began with
    session_id: uuid.UUID | None = None  # the log-in session (SEC-01); a token without one is refused
    session_token: int = 0  # the token's number in its session (a renewal refuses the ones before)


def load_or_create_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # Replicas sharing the data directory may start together: the first key linked into place wins and every
    # process uses it (a plain write would let the last one overwrite a key another replica already signs with).
    partial = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")
    partial.touch(mode=0o600)
    partial.write_bytes(pem)
    try:
        os.link(partial, path)
    except FileExistsError:
        return load_or_create_signing_key(path)
    finally:
        partial.unlink()
    return key


class TokenIssuer:
    def __init__(self, private_key: ec.EllipticCurvePrivateKey, ttl_seconds: int) -> None:
        self._private_pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.public_pem = private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        self.ttl = timedelta(seconds=ttl_seconds)

    def issue(
        self,
        user_id: uuid.UUID,
        role: str,
        now: datetime,
        *,
        face_verified_at: datetime | None = None,
        practice_session_id: uuid.UUID | None = None,
        authenticated_at: datetime | None = None,
        session_id: uuid.UUID | None = None,
        session_token: int = 0,
    ) -> tuple[str, int]:
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": str(user_id),
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "auth_time": int((authenticated_at or now).timestamp()),
        }
        if session_id is not None:
            claims["sid"], claims["stn"] = str(session_id), session_token
        if face_verified_at is not None:
            claims["face_verified_at"] = face_verified_at.timestamp()
            claims["psid"] = str(practice_session_id)
        return jwt.encode(claims, self._private_pem, algorithm=ALGORITHM), int(self.ttl.total_seconds())

    def decode(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self.public_pem, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"require_exp": True, "require_sub": True, "require_iat": True})
            verified = claims.get("face_verified_at")
            auth_time = claims.get("auth_time", claims["iat"])
            return Principal(
                user_id=uuid.UUID(claims["sub"]),
                role=str(claims["role"]),
                token_id=str(claims["jti"]),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
                face_verified_at=datetime.fromtimestamp(verified, UTC) if verified is not None else None,
                practice_session_id=uuid.UUID(claims["psid"]) if claims.get("psid") else None,
                authenticated_at=datetime.fromtimestamp(auth_time, UTC),
                session_id=uuid.UUID(claims["sid"]) if claims.get("sid") else None,
                session_token=int(claims.get("stn", 0)),
            )
        except (JWTError, KeyError, ValueError, TypeError) as exc:
            raise NotAuthenticated("the access token is invalid or expired") from exc
