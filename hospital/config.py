"""Configuration from environment variables, with safe demo defaults.

Every setting is read once into a frozen `Settings`; nothing reads the environment later. In production mode
(`HOSPITAL_ENV=production`) the hospital refuses to start with any demo secret.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from hospital.core.clock import time_zone
from hospital.core.errors import ServiceUnavailable
from hospital.core.residency import residency, target_host

__all__ = ["DEMO_FIELD_KEY", "DEMO_KEY_PASSPHRASE", "ConfigurationError", "Settings", "load_settings"]

# Known to everyone who reads this file, so only good for the demo and the tests.
DEMO_FIELD_KEY = base64.b64encode(b"demo-field-key-not-for-production"[:32].ljust(32, b"!")).decode()
DEMO_KEY_PASSPHRASE = "demo-key-passphrase"  # nosec B105


class ConfigurationError(ServiceUnavailable):
    """The configuration is unsafe or inconsistent; the hospital refuses to start."""

    title = "Configuration refused"


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "demo"  # demo | test | production
    data_dir: Path = Path("var")
    database_url: str = ""
    field_key_b64: str = DEMO_FIELD_KEY
    key_passphrase: str = DEMO_KEY_PASSPHRASE
    hospital_name: str = "示范互联网医院"
    time_zone: str = "Asia/Shanghai"  # the zone of every "today" (hospital.core.clock); never the machine's
    token_ttl_seconds: int = 900
    session_max_seconds: int = 12 * 3600  # a token is renewed within this long of the password log-in (SEC-01)
    practice_window_seconds: int = 30 * 60  # FACE-02: accepting a visit, reviewing
    signing_window_seconds: int = 5 * 60  # FACE-03: signing a prescription
    login_max_failures: int = 5
    login_lockout_seconds: int = 15 * 60
    login_rate_per_minute: int = 30
    face_max_failures: int = 5
    face_lockout_seconds: int = 30 * 60
    face_workers: int = 1
    # FACE-02: the legacy single-image verification (one still picture, no liveness). None: allowed outside
    # production only (the verify pages still use it); production answers a liveness challenge.
    face_single_image: bool | None = None
    # RFC 3161: the time-stamping authority every signature gets a token from; "" is the hospital's own small TSA
    # in process (demo, tests: its certificate is issued by the hospital CA). Production: a licensed TSA's URL.
    tsa_url: str = ""
    max_upload_bytes: int = 8 * 1024 * 1024
    max_body_bytes: int = 12 * 1024 * 1024
    # INS-04: storage must stay in the country; the data directory's declared region is checked against this.
    storage_region: str = "cn"
    allowed_storage_regions: tuple[str, ...] = ("cn",)
    # INS-04: the database host must be one of these (exact names, `*.suffix` patterns or CIDR ranges).
    allowed_storage_hosts: tuple[str, ...] = ("localhost", "127.0.0.0/8", "::1")
    public_base_url: str = "http://127.0.0.1:8000"
    # REC-03, encryption in transit: `hospital serve` terminates TLS itself with this certificate and key, or a
    # proxy in front does (name it: production refuses to start with neither).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_proxy: str = ""
    # Video consultations (FACE-02 live watch, ICE servers for the browsers and the hospital's media peer).
    video_sample_interval_s: float = 3.0
    video_grace_s: float = 10.0
    video_resume_window_seconds: int = 120  # resuming a paused visit needs a verification this fresh
    video_recording_dir: str = ""  # recordings in progress; empty: <data_dir>/recordings-in-progress
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""  # coturn's static-auth-secret (deploy/coturn)
    # Media workers (`hospital media-worker`, docs/operations.md): with `media_workers` on, the app runs no media
    # hub of its own and routes each call to the worker it is placed on; off (`make run`, the demo), in process.
    media_workers: bool = False
    media_secret: str = ""  # HMAC key shared by the app and its workers (the internal signalling API)
    media_worker_id: str = ""  # a worker's name in the `media_worker` table; "" : the host name and process id
    media_worker_url: str = ""  # where the app reaches this worker; "" : http://127.0.0.1:<its port>
    media_worker_capacity: int = 20  # calls a worker takes before placement passes it over
    media_heartbeat_s: float = 5.0  # a worker renews its lease this often …
    media_lease_s: float = 15.0  # … for this long: a worker silent this long is dead, its calls placed anew
    supervision_url: str = ""  # the platform endpoint (HOSPITAL_SUPERVISION_URL), checked for INS-04 at start
    # SEC-02: leak detection thresholds, the report deadline, and the periodic scan (0: off; `hospital serve`
    # reads HOSPITAL_SECURITY_SCAN_INTERVAL, default 600 s; a Settings built in code, as tests do, scans nothing).
    security_bulk_access_patients: int = 30  # more distinct patients than this read by one account …
    security_bulk_access_window_minutes: int = 60  # … within this window is a suspected leak
    security_stuffing_accounts: int = 10  # failed log-ins to more accounts than this from one address …
    security_stuffing_window_minutes: int = 10  # … within this window is credential stuffing
    security_report_hours: float = 1.0  # a (suspected) leak is reported to the authorities within this
    security_scan_lookback_hours: int = 24  # how far back a scan reads the audit trail
    security_scan_interval_seconds: int = 0
    # RX-03: the prescription thresholds; the regulation's figure is the default and the most a hospital may set
    # (a stricter one is its choice): a high-amount prescription (SP 大额度处方, yuan), a supply without a
    # recorded reason (处方管理办法 第十九条, days), the longest long prescription (长期处方管理规范, days).
    rx_high_amount_threshold_cny: int = 1000
    rx_default_max_days: int = 7
    rx_long_max_days: int = 84
    # RX-06: a pharmacist's claim on a pending prescription lapses after this many minutes undecided; it goes
    # back to the queue (never approved by the lapse)
    rx_claim_minutes: int = 15
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def field_key(self) -> bytes:
        return base64.b64decode(self.field_key_b64)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hospital.db').resolve()}"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def single_image_verification(self) -> bool:
        """Whether `POST /api/me/face-verifications` (one still image, no liveness) is accepted (FACE-02)."""
        return (not self.is_production) if self.face_single_image is None else self.face_single_image

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def storage_and_network_targets(self) -> list[tuple[str, str]]:
        """Every place data goes or is relayed, named, for INS-04: the database, the blob store and the
        recordings (paths in the data directory, or URLs), the TURN/STUN relays, the platform endpoint."""
        targets = [("database", self.resolved_database_url), ("blob store", str(self.data_dir)),
                   ("recordings directory", self.video_recording_dir or str(self.data_dir))]
        targets += [("TURN server", url) for url in self.turn_urls] + [("STUN server", url) for url in self.stun_urls]
        if self.supervision_url:
            targets.append(("supervision platform endpoint", self.supervision_url))
        return targets

    @property
    def serves_tls(self) -> bool:
        """The hospital's own server terminates TLS (a certificate and key are configured)."""
        return bool(self.tls_cert_file and self.tls_key_file)

    @property
    def behind_tls(self) -> bool:
        """Browsers reach the hospital over TLS: its public URL is https (HSTS is sent then)."""
        return urlsplit(self.public_base_url).scheme == "https"

    def _check_tls(self) -> None:
        """REC-03 in production: the public URL is https, something terminates TLS, and the database is reached
        over TLS."""
        if not self.behind_tls:
            raise ConfigurationError(f"REC-03: production refuses the public URL {self.public_base_url!r}: it must be "
                                     "https (HOSPITAL_PUBLIC_URL)")
        if not self.serves_tls and not self.tls_proxy.strip():
            raise ConfigurationError("REC-03: production needs TLS terminated: set HOSPITAL_TLS_CERT and "
                                     "HOSPITAL_TLS_KEY, or name the proxy that terminates it in HOSPITAL_TLS_PROXY")
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ConfigurationError("REC-03: HOSPITAL_TLS_CERT and HOSPITAL_TLS_KEY go together")
        if database_tls(self.resolved_database_url) not in ("require", "verify-ca", "verify-full"):
            raise ConfigurationError("REC-03: production reaches PostgreSQL over TLS only: add ?ssl=require (or "
                                     "verify-ca, verify-full) to HOSPITAL_DATABASE_URL")

    def check(self) -> None:
        """Refuse unsafe configurations (called before serving)."""
        if len(self.field_key) != 32:
            raise ConfigurationError("HOSPITAL_FIELD_KEY must be 32 bytes, base64-encoded")
        if self.is_production:
            if self.field_key_b64 == DEMO_FIELD_KEY:
                raise ConfigurationError("production mode refuses the demo HOSPITAL_FIELD_KEY")
            if self.key_passphrase == DEMO_KEY_PASSPHRASE:
                raise ConfigurationError("production mode refuses the demo HOSPITAL_KEY_PASSPHRASE")
            if self.resolved_database_url.startswith("sqlite"):
                raise ConfigurationError("production mode needs PostgreSQL (HOSPITAL_DATABASE_URL)")
            self._check_tls()
        try:
            time_zone(self.time_zone)
        except ValueError as exc:
            raise ConfigurationError(f"HOSPITAL_TIME_ZONE: {exc}") from exc
        if self.media_workers and len(self.media_secret.encode()) < 32:
            raise ConfigurationError("HOSPITAL_MEDIA_WORKERS needs HOSPITAL_MEDIA_SECRET of at least 32 bytes "
                                     "(the app and its media workers sign their requests with it)")
        if self.media_lease_s <= self.media_heartbeat_s or self.media_heartbeat_s <= 0:
            raise ConfigurationError("HOSPITAL_MEDIA_LEASE must be longer than HOSPITAL_MEDIA_HEARTBEAT (> 0)")
        table = residency()  # INS-04: the reviewed table; configuration may narrow it, never widen it
        if self.storage_region not in table.allowed_regions or self.storage_region not in self.allowed_storage_regions:
            allowed = sorted(table.allowed_regions & set(self.allowed_storage_regions))
            raise ConfigurationError(
                f"INS-04: storage region {self.storage_region!r} is not a mainland region of the reviewed table "
                f"(hospital/core/data/residency.csv) allowed here {allowed}; data must stay in the country"
            )
        for target, value in self.storage_and_network_targets():
            host = target_host(value)
            foreign = table.foreign(host) if host else None
            if foreign is not None:
                raise ConfigurationError(
                    f"INS-04: the {target} {host!r} is a known endpoint abroad ({foreign} in "
                    "hospital/core/data/residency.csv); data and servers must stay in the country")
        if min(self.security_bulk_access_patients, self.security_bulk_access_window_minutes,
               self.security_stuffing_accounts, self.security_stuffing_window_minutes,
               self.security_scan_lookback_hours) < 1 or self.security_report_hours <= 0:
            raise ConfigurationError("SEC-02: the HOSPITAL_SECURITY_* thresholds, windows and deadline must be positive")
        for variable, given, ceiling in (("HOSPITAL_RX_HIGH_AMOUNT_CNY", self.rx_high_amount_threshold_cny, 1000),
                                  ("HOSPITAL_RX_DEFAULT_MAX_DAYS", self.rx_default_max_days, 7),
                                  ("HOSPITAL_RX_LONG_MAX_DAYS", self.rx_long_max_days, 84)):
            if not 1 <= given <= ceiling:
                raise ConfigurationError(f"RX-03: {variable}={given} is beyond the regulation's {ceiling}; "
                                         f"a hospital may only be stricter (1…{ceiling})")
        if not 1 <= self.rx_claim_minutes <= 240:
            raise ConfigurationError(f"RX-06: HOSPITAL_RX_CLAIM_MINUTES={self.rx_claim_minutes} must be 1…240: a "
                                     "claim that never lapses would hide a prescription from every other pharmacist")
        host = database_host(self.resolved_database_url)
        if host is not None and not host_allowed(host, self.allowed_storage_hosts):
            raise ConfigurationError(
                f"INS-04: database host {host!r} is not in HOSPITAL_ALLOWED_STORAGE_HOSTS "
                f"{list(self.allowed_storage_hosts)}; data and servers must stay in the country"
            )


def database_tls(url: str) -> str | None:
    """The TLS mode a PostgreSQL URL asks for (`ssl=` for asyncpg, `sslmode=` for libpq-style URLs), if any."""
    query = dict(parse_qsl(urlsplit(url).query))
    return query.get("ssl") or query.get("sslmode")


def database_host(url: str) -> str | None:
    """The host a database URL points at; None for an embedded file (SQLite lives in the data directory)."""
    if url.startswith("sqlite"):
        return None
    return urlsplit(url.replace("+asyncpg", "").replace("+psycopg", "")).hostname or "localhost"


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    for pattern in allowed:
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if "/" in pattern:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(pattern, strict=False):
                    return True
            except ValueError:
                continue
        if host == pattern:
            return True
    return False


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from exc


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read `HOSPITAL_*` variables (or the given mapping) into `Settings`."""
    env = dict(os.environ) if env is None else env
    defaults = Settings()
    return Settings(
        environment=env.get("HOSPITAL_ENV", defaults.environment),
        data_dir=Path(env.get("HOSPITAL_DATA_DIR", str(defaults.data_dir))),
        database_url=env.get("HOSPITAL_DATABASE_URL", ""),
        field_key_b64=env.get("HOSPITAL_FIELD_KEY", defaults.field_key_b64),
        key_passphrase=env.get("HOSPITAL_KEY_PASSPHRASE", defaults.key_passphrase),
        hospital_name=env.get("HOSPITAL_NAME", defaults.hospital_name),
        time_zone=env.get("HOSPITAL_TIME_ZONE", defaults.time_zone),
        token_ttl_seconds=_int(env, "HOSPITAL_TOKEN_TTL", defaults.token_ttl_seconds),
        session_max_seconds=_int(env, "HOSPITAL_SESSION_MAX", defaults.session_max_seconds),
        practice_window_seconds=_int(env, "HOSPITAL_PRACTICE_WINDOW", defaults.practice_window_seconds),
        signing_window_seconds=_int(env, "HOSPITAL_SIGNING_WINDOW", defaults.signing_window_seconds),
        login_max_failures=_int(env, "HOSPITAL_LOGIN_MAX_FAILURES", defaults.login_max_failures),
        login_lockout_seconds=_int(env, "HOSPITAL_LOGIN_LOCKOUT", defaults.login_lockout_seconds),
        login_rate_per_minute=_int(env, "HOSPITAL_LOGIN_RATE", defaults.login_rate_per_minute),
        face_max_failures=_int(env, "HOSPITAL_FACE_MAX_FAILURES", defaults.face_max_failures),
        face_lockout_seconds=_int(env, "HOSPITAL_FACE_LOCKOUT", defaults.face_lockout_seconds),
        face_workers=_int(env, "HOSPITAL_FACE_WORKERS", defaults.face_workers),
        tsa_url=env.get("HOSPITAL_TSA_URL", defaults.tsa_url).strip(),
        face_single_image={"1": True, "true": True, "0": False, "false": False}.get(
            env.get("HOSPITAL_FACE_SINGLE_IMAGE", "").strip().lower()),
        storage_region=env.get("HOSPITAL_STORAGE_REGION", defaults.storage_region),
        allowed_storage_regions=tuple(
            r.strip() for r in env.get("HOSPITAL_ALLOWED_STORAGE_REGIONS", "cn").split(",") if r.strip()
        ),
        public_base_url=env.get("HOSPITAL_PUBLIC_URL", defaults.public_base_url),
        tls_cert_file=env.get("HOSPITAL_TLS_CERT", ""),
        tls_key_file=env.get("HOSPITAL_TLS_KEY", ""),
        tls_proxy=env.get("HOSPITAL_TLS_PROXY", ""),
        allowed_storage_hosts=tuple(
            h.strip() for h in env.get("HOSPITAL_ALLOWED_STORAGE_HOSTS", ",".join(defaults.allowed_storage_hosts)).split(",")
            if h.strip()
        ),
        video_sample_interval_s=_float(env, "HOSPITAL_VIDEO_SAMPLE_INTERVAL", defaults.video_sample_interval_s),
        video_grace_s=_float(env, "HOSPITAL_VIDEO_GRACE", defaults.video_grace_s),
        video_resume_window_seconds=_int(env, "HOSPITAL_VIDEO_RESUME_WINDOW", defaults.video_resume_window_seconds),
        video_recording_dir=env.get("HOSPITAL_VIDEO_RECORDING_DIR", ""),
        stun_urls=_list(env, "HOSPITAL_STUN_URLS"),
        turn_urls=_list(env, "HOSPITAL_TURN_URLS"),
        turn_secret=env.get("HOSPITAL_TURN_SECRET", ""),
        media_workers=env.get("HOSPITAL_MEDIA_WORKERS", "").strip().lower() in ("1", "true", "on", "yes"),
        media_secret=env.get("HOSPITAL_MEDIA_SECRET", ""),
        media_worker_id=env.get("HOSPITAL_MEDIA_WORKER_ID", ""),
        media_worker_url=env.get("HOSPITAL_MEDIA_WORKER_URL", ""),
        media_worker_capacity=_int(env, "HOSPITAL_MEDIA_CAPACITY", defaults.media_worker_capacity),
        media_heartbeat_s=_float(env, "HOSPITAL_MEDIA_HEARTBEAT", defaults.media_heartbeat_s),
        media_lease_s=_float(env, "HOSPITAL_MEDIA_LEASE", defaults.media_lease_s),
        supervision_url=env.get("HOSPITAL_SUPERVISION_URL", ""),
        security_bulk_access_patients=_int(env, "HOSPITAL_SECURITY_BULK_ACCESS_PATIENTS",
                                           defaults.security_bulk_access_patients),
        security_bulk_access_window_minutes=_int(env, "HOSPITAL_SECURITY_BULK_ACCESS_WINDOW",
                                                 defaults.security_bulk_access_window_minutes),
        security_stuffing_accounts=_int(env, "HOSPITAL_SECURITY_STUFFING_ACCOUNTS", defaults.security_stuffing_accounts),
        security_stuffing_window_minutes=_int(env, "HOSPITAL_SECURITY_STUFFING_WINDOW",
                                              defaults.security_stuffing_window_minutes),
        security_report_hours=_float(env, "HOSPITAL_SECURITY_REPORT_HOURS", defaults.security_report_hours),
        security_scan_lookback_hours=_int(env, "HOSPITAL_SECURITY_SCAN_LOOKBACK", defaults.security_scan_lookback_hours),
        security_scan_interval_seconds=_int(env, "HOSPITAL_SECURITY_SCAN_INTERVAL", 600),
        rx_high_amount_threshold_cny=_int(env, "HOSPITAL_RX_HIGH_AMOUNT_CNY", defaults.rx_high_amount_threshold_cny),
        rx_default_max_days=_int(env, "HOSPITAL_RX_DEFAULT_MAX_DAYS", defaults.rx_default_max_days),
        rx_long_max_days=_int(env, "HOSPITAL_RX_LONG_MAX_DAYS", defaults.rx_long_max_days),
        rx_claim_minutes=_int(env, "HOSPITAL_RX_CLAIM_MINUTES", defaults.rx_claim_minutes),
    )
