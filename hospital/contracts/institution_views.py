"""Wire schemas of the institution's HTTP answers (hospital/institution/api.py, hospital/public/api.py): the
public face (INS-03), the licence and departments (INS-01, INS-02) and a service stop (QA-02), key for key as
the disclosure and administration pages read them.

The reviewed disclosure file's parts (hours, modes, reply limits, prices, complaint channel) are defined here
once: hospital/institution/reference.py reads the file into them and the disclosure answers them unchanged."""

from __future__ import annotations

import msgspec

from hospital.contracts.visit_views import DepartmentRef

__all__ = ["ClinicianListing", "Complaints", "DepartmentView", "DisclosedPrices", "Disclosure", "DrugPrice",
           "ECredential", "LicenceRecordedView", "LicenceView", "PublicInstitution", "Registration", "ReplyTimeLimit",
           "ScheduleListing", "ServiceHours", "ServiceMode", "ServicePrice", "ServiceStopState", "ServiceStopView",
           "Text"]


# ---- the reviewed disclosure file's parts (hospital/institution/data/disclosure.json) -------------------------

class Text(msgspec.Struct, forbid_unknown_fields=True):
    zh: str
    en: str


class ServiceHours(msgspec.Struct, forbid_unknown_fields=True):
    days: Text
    opens: str
    closes: str


class ServiceMode(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: Text


class ReplyTimeLimit(msgspec.Struct, forbid_unknown_fields=True):
    mode: str
    minutes: int
    text: Text


class ServicePrice(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name: Text
    unit: Text
    price_cny: str
    basis: Text


class Complaints(msgspec.Struct, forbid_unknown_fields=True):
    phone: str
    email: str
    address: Text
    hours: Text
    online: Text
    regulator: Text


# ---- the institution ------------------------------------------------------------------------------------------

class LicenceView(msgspec.Struct, kw_only=True):
    """The licence in force (INS-01), as published."""

    licence_number: str
    institution_name: str
    internet_hospital_name: str
    issuer: str
    valid_from: str  # ISO 8601 date
    valid_until: str
    service_modes: list[str]
    address: str
    legal_representative: str


class PublicInstitution(msgspec.Struct, kw_only=True):
    """`GET /api/institution/`: what anyone may read without logging in (INS-03)."""

    name: str
    licence: LicenceView | None
    licence_in_force: bool
    service_stopped: bool  # QA-02: a confirmed stop in force
    service_stop_reason: str | None
    service_stop_reason_code: str | None
    service_stop_pending: bool
    departments: list[DepartmentRef]  # the approved ones


class LicenceRecordedView(msgspec.Struct, kw_only=True):
    id: str
    licence_number: str


class DepartmentView(msgspec.Struct, kw_only=True):
    """A 诊疗科目 as the administrator sees it, approved or not (INS-02)."""

    code: str
    name: str
    approved: bool


class ServiceStopView(msgspec.Struct, kw_only=True):
    """A stop of online clinical service (QA-02): asked, confirmed by a second administrator, resumed."""

    stop_id: str
    stopped: bool
    pending_confirmation: bool
    reason_code: str | None  # a whole-service stop names one (service_stop_reasons.csv)
    reason: str
    requested_at: str  # ISO 8601 with offset
    stopped_at: str | None
    resumed_at: str | None


class ServiceStopState(msgspec.Struct, kw_only=True):
    stop: ServiceStopView | None  # the stop in force or waiting for confirmation
    reason_codes: dict[str, str]  # code → its text (hospital/institution/data/service_stop_reasons.csv)


# ---- the public disclosure (INS-03) -----------------------------------------------------------------------------

class Registration(msgspec.Struct, kw_only=True):
    """The certificate that registers the clinician to practise (执业注册)."""

    kind: str | None
    number: str | None
    valid_until: str | None


class ECredential(msgspec.Struct, kw_only=True):
    """The clinician's signing certificate from the hospital CA (RX-05)."""

    certificate_serial: str
    fingerprint_sha256: str
    valid_from: str  # ISO 8601 with offset
    valid_until: str


class ClinicianListing(msgspec.Struct, kw_only=True):
    name: str
    kind: str  # doctor | pharmacist | nurse
    title: str
    departments: list[DepartmentRef]
    practice_category: str
    practice_scope: str
    registration: Registration | None
    e_credential: ECredential | None


class ScheduleListing(msgspec.Struct, kw_only=True):
    """A published schedule of the next days, with its fees per mode (INS-03: one source of prices)."""

    doctor: str
    title: str
    department_code: str
    department: str
    starts_at: str  # ISO 8601 with offset
    ends_at: str
    modes: list[str]
    prices: dict[str, str]
    capacity: int
    remaining: int


class DrugPrice(msgspec.Struct, kw_only=True):
    code: str
    name_zh: str
    generic_name: str
    form: str
    strength: str
    pack: str
    pack_size: int
    dispensing_unit: str
    price_cny: str


class DisclosedPrices(msgspec.Struct, kw_only=True):
    services: list[ServicePrice]
    drugs: list[DrugPrice]  # controlled drugs are not offered online (RX-02), so not priced


class Disclosure(PublicInstitution, kw_only=True):
    """`GET /api/institution/disclosure`: everything INS-03 names (亮证经营)."""

    clinicians: list[ClinicianListing]  # practising now: not suspended, credentials in force
    e_credential_note: str
    schedules: list[ScheduleListing]
    service_hours: list[ServiceHours]
    service_modes: list[ServiceMode]
    reply_time_limits: list[ReplyTimeLimit]
    prices: DisclosedPrices
    complaints: Complaints
    dispute_procedure: list[Text]
    generated_at: str  # ISO 8601 with offset
