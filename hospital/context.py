"""The app-scoped collaborators every use case may need, built once at start-up and passed to services.

No module holds these as globals (DESIGN conventions 10): the app creates one `HospitalContext`, tests create
their own, and services receive it as an argument.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hospital.config import Settings
from hospital.core.clock import local_date, time_zone, utcnow
from hospital.core.crypto import FieldCipher
from hospital.identity.throttle import LoginThrottle
from hospital.identity.tokens import TokenIssuer, load_or_create_signing_key

if TYPE_CHECKING:
    from connectors.supervision.settings import ConnectorSettings
    from hospital.biometrics.liveness import LivenessCheck
    from hospital.biometrics.pool import FacePool
    from hospital.core.blobs import BlobStore
    from hospital.core.events import Event, Subscribers
    from hospital.prescriptions.formulary.values import Formulary
    from hospital.security.detection.jobs import SecurityScans
    from hospital.signing.authority import HospitalSigning
    from hospital.video.calls import VideoCalls
    from hospital.video.checker import CheckerFactory

__all__ = ["HospitalContext", "build_context"]


class HospitalContext:
    """A plain class, not a dataclass: the web layer passes it through as an opaque dependency.

    Every collaborator has its own typed attribute, None until whoever owns it sets it; what must be there when
    used has an accessor that says who was meant to set it (`face_pool()`, `video_calls()` …).
    """

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
        # The hospital CA, loaded once per process (hospital.signing.authority: `hospital_signing` loads it).
        self.signing: HospitalSigning | None = None
        # The bundled formulary, read once per process (prescriptions' `formulary_of` reads it).
        self.formulary: Formulary | None = None
        # The video calls and their media hub, open while the app runs (its lifespan opens them).
        self.calls: VideoCalls | None = None
        # The periodic security scan (SEC-02), running while the app runs when an interval is set.
        self.scans: SecurityScans | None = None
        # The connector's settings for the readiness probe; None: read from the environment at start-up.
        self.connector_settings: ConnectorSettings | None = None
        # Another directory of consent texts (a hospital's own, tests); None: the bundled texts.
        self.consent_dir: Path | None = None
        # {"hypertension": 6, …} overriding the reviewed recency windows (REV-02 "configurable"); None: reviewed.
        self.recency_overrides: Mapping[str, int] | None = None
        # Replaces the pool-backed live face check of the video (tests, or another engine); None: the face pool.
        self.face_checker: CheckerFactory | None = None
        # Replaces the landmark liveness check of a face challenge (a certified SDK); None: the face pool's.
        self.liveness: LivenessCheck | None = None

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

    def video_calls(self) -> VideoCalls:
        if self.calls is None:
            raise RuntimeError("video calls are not open (the app's lifespan opens them)")
        return self.calls

    def security_scans(self) -> SecurityScans:
        if self.scans is None:
            raise RuntimeError("the periodic security scan is not running (the app's lifespan starts it when "
                               "HOSPITAL_SECURITY_SCAN_INTERVAL is set)")
        return self.scans

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
