"""The signed prescription document (RX-05): what the doctor submits and the payload the signature covers. Pure.

The payload is canonical JSON (hospital.signing.canonical): no floats, so doses and money are decimal strings.
Format `hospital-rx/2` (`PAYLOAD_FORMAT`, issue 19: a prescription others can read) names people, places and
drugs by the numbers a pharmacy or the regulator knows, and writes every time with its offset (+08:00 in
Beijing). Its fields, all present in every prescription:

    format                                       "hospital-rx/2" (a payload without it is version 1, below)
    prescription_number, revision, supersedes    the number, 1 for a first version, the previous number or null
    issued_at, valid_until, validity_days        time of signing in the hospital's zone; last calendar day it may
                                                 be dispensed
    hospital                                     the internet hospital's name
    visit          {visit_id, department_code, mode}
    department     {code, name}                  the 诊疗科目 the visit belongs to
    patient        {patient_id, medical_record_number (病历号), id_number_hash (the hospital's keyed hash of the
                    ID number, never the number), name, sex, age}
    prior_diagnosis {icd10, name, institution, diagnosed_on}      the offline diagnosis this revisit continues (RX-01)
    diagnoses      [{icd10, name}]
    items          [{drug_code, name_zh, generic_name, atc_code, approval_number (国药准字…, null where the formulary
                     does not name it), strength {value, unit}, dose_per_time, dose_unit, times_per_day,
                     interval_days, frequency, days_supply, quantity_packs, pack {size, unit}, unit_price_cny,
                     amount_cny, usage, extra_quantity_code (null, or why one pack more than dose × days)}]
    total_cny, long_prescription_reason, long_prescription_code, guardian_present
    doctor         {staff_id, name, title, practising_certificate_code (医师执业证书编码), certificate_serial}
    face_verification {practice_session_id, verified_at}          the verification the signature rests on (FACE-03)
    origin, draft_sha256        recorded by the server (RX-07): "clinician", and the hash of the dry-run draft

Version 1 (before issue 19; documents signed then keep verifying, the signature covers their bytes): no `format`
and no `department`; patient {patient_id, name, sex, age}; items without atc_code and approval_number, with
`strength` ("5 mg") and `pack` ("28 tablet") as text; doctor without practising_certificate_code; times in UTC.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from hospital.core.errors import InvalidInput
from hospital.prescriptions.formulary.values import Drug, Formulary
from hospital.prescriptions.writing.values import PrescribedItem
from hospital.signing.canonical import payload_sha256

__all__ = ["PAYLOAD_FORMAT", "DiagnosisInput", "DraftInput", "ItemInput", "build_payload", "draft_sha256", "prescribed_items",
           "total_cny", "valid_until"]


PAYLOAD_FORMAT = "hospital-rx/2"


@dataclass(frozen=True, slots=True)
class DiagnosisInput:
    icd10: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemInput:
    drug_code: str
    dose_per_time: Decimal
    times_per_day: int
    days_supply: int
    quantity_packs: int
    interval_days: int = 1
    dose_unit: str | None = None  # default: the drug's dose unit
    usage: str = ""  # 用法, e.g. "口服，早餐后"
    frequency: str | None = None  # qd, bid, … (writing.values.PrescribedItem); default: read from times/interval
    extra_quantity_code: str | None = None  # writing.values.ExtraQuantityReason: one pack over dose × days


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftInput:
    """What the doctor's form sends; it becomes a prescription only when signed."""

    diagnoses: tuple[DiagnosisInput, ...]
    items: tuple[ItemInput, ...]
    validity_days: int = 1
    long_prescription_reason: str | None = None
    long_prescription_code: str | None = None  # writing.values.LongPrescriptionReason


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value.is_finite() else str(value)


def draft_sha256(draft: DraftInput, *, visit_id: str, supersedes_id: str | None) -> str:
    """The canonical hash of a draft (RX-07): what the dry run checked and signing must name. Covers every field
    the doctor wrote, the visit, and the version a revision replaces; a changed dose is a different draft."""
    body = {
        "visit_id": visit_id, "supersedes_id": supersedes_id,
        "diagnoses": [{"icd10": d.icd10.strip().upper(), "name": d.name.strip()} for d in draft.diagnoses],
        "items": [{"drug_code": i.drug_code, "dose_per_time": _decimal_text(i.dose_per_time),
                   "times_per_day": i.times_per_day, "days_supply": i.days_supply, "quantity_packs": i.quantity_packs,
                   "interval_days": i.interval_days, "dose_unit": i.dose_unit, "usage": i.usage.strip(),
                   "frequency": i.frequency,
                   **({"extra_quantity_code": i.extra_quantity_code} if i.extra_quantity_code else {})}
                  for i in draft.items],
        "validity_days": draft.validity_days,
        "long_prescription_reason": (draft.long_prescription_reason or "").strip() or None,
        "long_prescription_code": draft.long_prescription_code,
    }
    return payload_sha256(body)


def prescribed_items(draft: DraftInput, formulary: Formulary) -> tuple[PrescribedItem, ...]:
    """The rules' view of the items; an unknown drug keeps the unit given (RX-02 then refuses it)."""
    if not draft.items:
        raise InvalidInput("a prescription lists at least one drug")
    items = []
    for line in draft.items:
        drug = formulary.get(line.drug_code)
        unit = line.dose_unit or (drug.dose_unit if drug else "")
        if not unit:
            raise InvalidInput(f"give the dose unit for {line.drug_code!r}")
        items.append(PrescribedItem(drug_code=line.drug_code, dose_per_time=line.dose_per_time, dose_unit=unit,
                                    times_per_day=line.times_per_day, days_supply=line.days_supply,
                                    quantity_packs=line.quantity_packs, interval_days=line.interval_days,
                                    frequency=line.frequency, extra_quantity_code=line.extra_quantity_code,
                                    usage=line.usage.strip()))
    return tuple(items)


def valid_until(issued_on: date, validity_days: int) -> date:
    """处方管理办法 第十八条: valid on the day of issue, or up to `validity_days` days as the doctor notes."""
    return issued_on + timedelta(days=max(validity_days, 1) - 1)


def total_cny(items: Sequence[PrescribedItem], formulary: Formulary) -> Decimal:
    return sum((drug.price_cny * item.quantity_packs for item, drug in formulary.lines(items)), Decimal(0))


def _item(item: PrescribedItem, line: ItemInput, drug: Drug) -> dict[str, Any]:
    return {
        "drug_code": drug.code, "name_zh": drug.name_zh, "generic_name": drug.generic_name,
        "atc_code": drug.atc_code, "approval_number": drug.approval_number,  # null: the formulary does not name it
        "strength": {"value": _decimal_text(drug.strength), "unit": drug.strength_unit},
        "dose_per_time": str(item.dose_per_time),
        "dose_unit": item.dose_unit, "times_per_day": item.times_per_day, "interval_days": item.interval_days,
        "frequency": str(item.frequency_code or ""),
        "days_supply": item.days_supply, "quantity_packs": item.quantity_packs,
        "pack": {"size": drug.pack_size, "unit": drug.dispensing_unit}, "unit_price_cny": f"{drug.price_cny:.2f}",
        "amount_cny": f"{drug.price_cny * item.quantity_packs:.2f}", "usage": line.usage.strip(),
        "extra_quantity_code": item.extra_quantity_code,
    }


def local_time_text(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 with the hospital's offset ("2026-12-03T17:02:29.151253+08:00"): a reader needs no zone rule."""
    if moment.tzinfo is None:
        raise InvalidInput("a time in the signed payload must be timezone-aware")
    return moment.astimezone(zone).isoformat()


def build_payload(*, number: str, revision: int, supersedes: str | None, issued_at: datetime, issued_on: date,
                  time_zone: tzinfo, hospital: str, visit: dict[str, Any], department: dict[str, Any],
                  patient: dict[str, Any], prior_diagnosis: dict[str, Any], draft: DraftInput,
                  items: Sequence[PrescribedItem], formulary: Formulary, guardian_present: bool,
                  doctor: dict[str, Any], face_verification: dict[str, Any], origin: str,
                  checked_draft_sha256: str) -> dict[str, Any]:
    """The document the doctor signs (fields in the module docstring). `face_verification["verified_at"]` is an
    aware datetime; it is written, like `issued_at`, in `time_zone`."""
    lines = []
    for item, line in zip(items, draft.items, strict=True):
        drug = formulary.get(item.drug_code)
        if drug is None:  # the rules refuse unknown drugs before anything is signed
            raise InvalidInput(f"{item.drug_code!r} is not in the formulary")
        lines.append(_item(item, line, drug))
    verified_at = face_verification["verified_at"]
    return {
        "format": PAYLOAD_FORMAT,
        "prescription_number": number,
        "revision": revision,
        "supersedes": supersedes,
        "issued_at": local_time_text(issued_at, time_zone),
        "valid_until": valid_until(issued_on, draft.validity_days).isoformat(),
        "validity_days": draft.validity_days,
        "hospital": hospital,
        "visit": visit,
        "department": department,
        "patient": patient,
        "prior_diagnosis": prior_diagnosis,
        "diagnoses": [{"icd10": d.icd10.strip().upper(), "name": d.name.strip()} for d in draft.diagnoses],
        "items": lines,
        "total_cny": f"{total_cny(items, formulary):.2f}",
        "long_prescription_reason": (draft.long_prescription_reason or "").strip() or None,
        "long_prescription_code": draft.long_prescription_code,
        "guardian_present": guardian_present,
        "doctor": doctor,
        "face_verification": {**face_verification, "verified_at": local_time_text(verified_at, time_zone)
                              if isinstance(verified_at, datetime) else verified_at},
        "origin": origin,
        "draft_sha256": checked_draft_sha256,
    }
