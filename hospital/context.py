"""The app-scoped collaborators every use case may need, built once at start-up and passed to services.

No module holds these as globals (DESIGN conventions 10): the app creates one `HospitalContext`, tests create
their own, and services receive it as an argument.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from hospital.config import Settings
from hospital.core.clock import local_date, time_zone, utcnow
from hospital.core.crypto import FieldCipher
from hospital.identity.throttle import LoginThrottle
from hospital.identity.tokens import TokenIssuer, load_or_create_signing_key

if TYPE_CHECKING:
    from hospital.biometrics.pool import FacePool
    from hospital.core.blobs import BlobStore
    from hospital.core.events import Event, Subscribers

__all__ = ["HospitalContext", "build_context"]


class HospitalContext:
    """A plain class, not a dataclass: the web layer passes it through as an opaque dependency."""

    def __init__(self, settings: Settings, cipher: FieldCipher, tokens: TokenIssuer, throttle: LoginThrottle, *,
                 clock: Callable[[], datetime] = utcnow, blobs: BlobStore | None = None,
                 faces: FacePool | None = None) -> None:
        self.settings = settings
        self.cipher = cipher
        self.tokens = tokens
        self.throttle = throttle
        self.clock = clock
        self.time_zone = time_zone(settings.time_zone)
        self.blobs = blobs
        self.faces = faces
        # Every area's subscribers to the others' events (hospital.wiring.wire sets it; `events()` reads it).
        self.subscribers: Subscribers | None = None
        # Collaborators that areas add at start-up (the CA, the media hub …), by name.
        self.extensions: dict[str, Any] = {}

    def now(self) -> datetime:
        """The hospital's clock: an aware UTC instant (tests move it)."""
        return self.clock()

    def today(self) -> date:
        """Today in the hospital's time zone (Asia/Shanghai by default), never the machine's local date."""
        return local_date(self.clock(), self.time_zone)

    def local_date(self, moment: datetime) -> date:
        """The hospital's calendar day of an aware `moment`."""
        return local_date(moment, self.time_zone)

    def face_pool(self) -> FacePool:
        if self.faces is None:
            raise RuntimeError("the face pool is not started (the app's lifespan starts it)")
        return self.faces

    def events(self, event: type[Event] | None = None) -> Subscribers:
        """The registry of subscribers; a context never wired refuses (naming `event`, if given)."""
        if self.subscribers is None:
            from hospital.core.events import SubscribersNotWired

            raise SubscribersNotWired(event)
        return self.subscribers

    def blob_store(self) -> BlobStore:
        if self.blobs is None:
            raise RuntimeError("the blob store is not configured")
        return self.blobs


def build_context(settings: Settings) -> HospitalContext:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = load_or_create_signing_key(settings.data_dir / "keys" / "token-signing.pem")
    from hospital.core.blobs import BlobStore

    cipher = FieldCipher(settings.field_key)
    return HospitalContext(
        settings=settings,
        cipher=cipher,
        tokens=TokenIssuer(key, settings.token_ttl_seconds),
        throttle=LoginThrottle(settings.login_rate_per_minute),
        blobs=BlobStore(settings.data_dir / "blobs", cipher),
    )
