"""The app-scoped collaborators every use case may need, built once at start-up and passed to services.

No module holds these as globals (DESIGN conventions 10): the app creates one `HospitalContext`, tests create
their own, and services receive it as an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hospital.config import Settings
from hospital.core.crypto import FieldCipher
from hospital.core.types import utcnow
from hospital.identity.throttle import LoginThrottle
from hospital.identity.tokens import TokenIssuer, load_or_create_signing_key

__all__ = ["HospitalContext", "build_context"]


@dataclass
class HospitalContext:
    settings: Settings
    cipher: FieldCipher
    tokens: TokenIssuer
    throttle: LoginThrottle
    clock: Callable[[], datetime] = utcnow
    # Collaborators that areas add at start-up (the face pool, the blob store, the CA, the media hub).
    extensions: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()


def build_context(settings: Settings) -> HospitalContext:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = load_or_create_signing_key(settings.data_dir / "keys" / "token-signing.pem")
    return HospitalContext(
        settings=settings,
        cipher=FieldCipher(settings.field_key),
        tokens=TokenIssuer(key, settings.token_ttl_seconds),
        throttle=LoginThrottle(settings.login_rate_per_minute),
    )
