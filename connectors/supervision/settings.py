"""The connector's configuration from `HOSPITAL_SUPERVISION_*` environment variables (docs/connector.md).

Read once into a frozen `ConnectorSettings`; the dispatcher, the CLI and the readiness probe take it as an
argument. The hospital's own settings (database URL, field key) still come from `hospital.config`.
"""

from __future__ import annotations

import csv
import enum
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hospital.core.errors import ServiceUnavailable

__all__ = ["ConnectorSettings", "Mode", "Protocol", "ProvinceRhythm", "SupervisionConfigError",
           "load_connector_settings", "province_rhythm"]

PREFIX = "HOSPITAL_SUPERVISION_"
PROVINCES = Path(__file__).parent / "data" / "provinces.csv"


class SupervisionConfigError(ServiceUnavailable):
    """The connector's configuration is missing or inconsistent; the dispatcher refuses to start."""

    title = "Supervision connector configuration refused"


class Mode(enum.StrEnum):
    REALTIME = "realtime"  # a record is reported as soon as its change commits
    T_PLUS_1 = "t_plus_1"  # business records go in a nightly batch of what reached its final state the day before


class Protocol(enum.StrEnum):
    GATEWAY = "gateway"  # the SM4/SM3 gateway of supervision-gateway.md
    FHIR = "fhir"  # a FHIR R4 server taking transaction Bundles


class PrescriptionReported(enum.StrEnum):
    AT_SIGNING = "at_signing"  # the prescription when the doctor signs it; the review follows as its audit record
    WHEN_APPROVED = "when_approved"  # the prescription once approved, the review inside it; rejected ones never


@dataclass(frozen=True, slots=True)
class ProvinceRhythm:
    """One row of `data/provinces.csv`: when a province's platform wants the records."""

    province: str
    mode: Mode
    prescription_reported: PrescriptionReported


@functools.cache
def _provinces() -> dict[str, ProvinceRhythm]:
    with PROVINCES.open(encoding="utf-8", newline="") as handle:
        return {row["province"]: ProvinceRhythm(row["province"], Mode(row["mode"]),
                                                PrescriptionReported(row["prescription_reported"]))
                for row in csv.DictReader(handle)}


def province_rhythm(province: str) -> ProvinceRhythm:
    try:
        return _provinces()[province.lower()]
    except KeyError as exc:
        raise SupervisionConfigError(f"{PREFIX}PROVINCE must be one of {sorted(_provinces())}, got {province!r}"
                                     ) from exc


@dataclass(frozen=True, slots=True)
class ConnectorSettings:
    url: str = ""
    unit_id: str = ""
    app_key: str = ""
    app_secret: str = ""
    mode: Mode = Mode.REALTIME
    protocol: Protocol = Protocol.GATEWAY
    organ_id: str = ""  # the institution's code on the platform (organID); defaults to unit_id
    organ_name: str = ""
    timezone: str = "Asia/Shanghai"  # the platform's calendar: the day of T+1 and of the dispute check-in
    batch_at: time = time(0, 30)  # local time the nightly batch (and the daily check-in) is released
    timeout_s: float = 10.0
    concurrency: int = 8  # requests in flight per dispatcher, shared by its lanes
    lanes: int = 2  # rounds in progress at once (one claims and settles while another's requests are out)
    batch_size: int = 100  # events claimed per round
    batch_records: int = 50  # records of one method per request (the platform takes an array; 1: one per event)
    lease_s: float = 60.0  # a claimed event is another dispatcher's again after this (must exceed timeout_s)
    retry_base_s: float = 2.0
    retry_cap_s: float = 600.0
    poll_s: float = 0.05  # idle wait between rounds when nothing is due
    hold_s: float = 0.1  # how long an event waiting for an earlier event is set aside (×10 for a required record)
    lag_threshold_s: float = 300.0  # /ready reports the connector not ready above this lag
    precheck: bool = True  # refuse records with empty required fields before sending (the platform's -99)
    required: bool | None = None  # SUP-01: clinical work waits for the platform; None: in production only
    province: str = "guangdong"  # the rhythm of data/provinces.csv (real time, or a prescription when approved)
    face_uploads: bool = True  # uploadFaceVerification, our own non-standard method; off where a platform refuses it
    # uploadDepartmentInfo, our own non-standard method (the SDK has no department record: departments travel as
    # subjectCode inside staff and visit records); on only where a platform asks for departments of their own.
    department_uploads: bool = False

    @property
    def rhythm(self) -> ProvinceRhythm:
        return province_rhythm(self.province)

    @property
    def prescription_at_signing(self) -> bool:
        return self.rhythm.prescription_reported is PrescriptionReported.AT_SIGNING

    @property
    def configured(self) -> bool:
        return bool(self.url)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def organ(self) -> str:
        return self.organ_id or self.unit_id

    def with_(self, **changes: object) -> ConnectorSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def check(self) -> None:
        """Refuse a configuration the dispatcher cannot run with."""
        if not self.url:
            raise SupervisionConfigError(f"{PREFIX}URL is not set: no supervision platform to report to")
        if self.protocol is Protocol.GATEWAY:
            missing = [n for n, v in (("UNIT_ID", self.unit_id), ("APP_KEY", self.app_key),
                                      ("APP_SECRET", self.app_secret)) if not v]
            if missing:
                raise SupervisionConfigError("the gateway needs " + ", ".join(PREFIX + m for m in missing))
        if self.lanes < 1 or self.concurrency < self.lanes or self.batch_size < 1 or self.batch_records < 1:
            raise SupervisionConfigError(f"{PREFIX}LANES ≥ 1, {PREFIX}CONCURRENCY ≥ LANES, {PREFIX}BATCH ≥ 1 and "
                                         f"{PREFIX}BATCH_RECORDS ≥ 1")
        if self.lease_s <= self.timeout_s:
            raise SupervisionConfigError(f"{PREFIX}LEASE must exceed {PREFIX}TIMEOUT, or a slow send is sent twice")
        province_rhythm(self.province)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SupervisionConfigError(f"{PREFIX}TZ {self.timezone!r} is not a known time zone") from exc


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(PREFIX + name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SupervisionConfigError(f"{PREFIX}{name} must be a number, got {raw!r}") from exc


def _choice(env: Mapping[str, str], name: str, kind: type[enum.StrEnum], default: enum.StrEnum) -> object:
    raw = env.get(PREFIX + name, "") or default.value
    try:
        return kind(raw.lower())
    except ValueError as exc:
        raise SupervisionConfigError(f"{PREFIX}{name} must be one of {[k.value for k in kind]}, got {raw!r}") from exc


def _clock_time(env: Mapping[str, str], default: time) -> time:
    raw = env.get(PREFIX + "BATCH_AT", "")
    try:
        return time.fromisoformat(raw) if raw else default
    except ValueError as exc:
        raise SupervisionConfigError(f"{PREFIX}BATCH_AT must be HH:MM, got {raw!r}") from exc


def load_connector_settings(env: Mapping[str, str] | None = None) -> ConnectorSettings:
    """Read `HOSPITAL_SUPERVISION_*` (or the given mapping)."""
    env = dict(os.environ) if env is None else env
    d = ConnectorSettings()

    def text(name: str, default: str = "") -> str:
        return env.get(PREFIX + name, default).strip()

    rhythm = province_rhythm(text("PROVINCE", d.province))
    return ConnectorSettings(
        url=text("URL"), unit_id=text("UNIT_ID"), app_key=text("APP_KEY"), app_secret=text("APP_SECRET"),
        province=rhythm.province,
        mode=_choice(env, "MODE", Mode, rhythm.mode),  # type: ignore[arg-type]  # the province's unless set
        protocol=_choice(env, "PROTOCOL", Protocol, d.protocol),  # type: ignore[arg-type]
        organ_id=text("ORGAN_ID"), organ_name=text("ORGAN_NAME") or env.get("HOSPITAL_NAME", ""),
        timezone=text("TZ", d.timezone), batch_at=_clock_time(env, d.batch_at),
        timeout_s=_number(env, "TIMEOUT", d.timeout_s), concurrency=int(_number(env, "CONCURRENCY", d.concurrency)),
        batch_size=int(_number(env, "BATCH", d.batch_size)), lanes=int(_number(env, "LANES", d.lanes)),
        batch_records=int(_number(env, "BATCH_RECORDS", d.batch_records)),
        lease_s=_number(env, "LEASE", d.lease_s),
        retry_base_s=_number(env, "RETRY_BASE", d.retry_base_s), retry_cap_s=_number(env, "RETRY_CAP", d.retry_cap_s),
        poll_s=_number(env, "POLL", d.poll_s), hold_s=_number(env, "HOLD", d.hold_s),
        lag_threshold_s=_number(env, "LAG_THRESHOLD", d.lag_threshold_s),
        precheck=text("PRECHECK", "1").lower() not in ("0", "false", "no", "off"),
        required=_flag(text("REQUIRED")),
        face_uploads=text("FACE_UPLOADS", "1").lower() not in ("0", "false", "no", "off"),
        department_uploads=text("DEPARTMENT_UPLOADS", "0").lower() not in ("0", "false", "no", "off"),
    )


def _flag(raw: str) -> bool | None:
    if not raw:
        return None
    return raw.lower() not in ("0", "false", "no", "off")
