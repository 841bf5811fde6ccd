"""From the signed documents to the words on the 处方笺 (pure): the prescription payload as the doctor signed it and
the review payload as the pharmacist signed it, never the mutable rows, so the paper says what the signatures say.

Both payload generations are read: the present one (patient, visit, doctor by name; drugs by code and name) and
the richer one of issue 19 (medical record number, department name), whichever fields are present.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from hospital.core.clock import CHINA_TIME, local_date
from hospital.prescriptions.printing.layout import PaperKind, PrintedItem, PrintedPrescription

__all__ = ["jws_payload", "printed_prescription"]

_SEX = {"male": "男", "female": "女", "m": "男", "f": "女", "1": "男", "2": "女"}
_FREQUENCY = {"qd": "一日 1 次", "bid": "一日 2 次", "tid": "一日 3 次", "qid": "一日 4 次", "qn": "每晚 1 次",
              "qw": "每周 1 次", "biw": "每周 2 次", "q3d": "每 3 日 1 次", "prn": "必要时"}
# the formulary's dispensing units (formulary.tables.DISPENSING_UNITS) as a 处方 writes them
_UNIT = {"tablet": "片", "capsule": "粒", "actuation": "揿", "inhalation": "吸", "patch": "贴", "sachet": "袋"}
SELF_PAY = "自费"  # 费别: an internet visit is paid by the patient unless the payload names insurance


def jws_payload(token: str) -> dict[str, Any]:
    """The payload of a compact JWS, for display only: whoever relies on it verifies the JWS (the export)."""
    segment = token.split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(decoded, dict):
        raise ValueError("a JWS payload that is not an object")
    return decoded


def _local_day(text: object, zone: tzinfo) -> str:
    """The hospital's calendar day of an ISO 8601 moment (开具日期 is a China date, not a UTC one)."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return str(text or "")[:10]
    return local_date(moment, zone).isoformat() if moment.tzinfo else moment.date().isoformat()


def _name(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("name_zh") or "")
    return str(value or "")


def _unit(unit: object) -> str:
    return _UNIT.get(str(unit or ""), str(unit or ""))


def _usage(item: Mapping[str, Any]) -> str:
    dose = f"一次 {item.get('dose_per_time', '')} {_unit(item.get('dose_unit'))}".strip()
    frequency = str(item.get("frequency") or "")
    how_often = _FREQUENCY.get(frequency) or f"一日 {item.get('times_per_day', '')} 次"
    parts = [str(item.get("usage") or "").strip(), dose, how_often, f"共 {item.get('days_supply', '')} 天"]
    return "，".join(part for part in parts if part)


def _item(item: Mapping[str, Any]) -> PrintedItem:
    strength = item.get("strength")
    if isinstance(strength, Mapping):  # structured (issue 19): {value, unit}
        strength = f"{strength.get('value', '')} {strength.get('unit', '')}".strip()
    pack = item.get("pack")
    if isinstance(pack, Mapping):  # structured (issue 19): {size, unit}
        pack = f"{pack.get('size', '')} {_unit(pack.get('unit'))}".strip()
    elif isinstance(pack, str) and " " in pack:  # "28 tablet"
        size, unit = pack.rsplit(" ", 1)
        pack = f"{size} {_unit(unit)}"
    packs = item.get("quantity_packs", "")
    return PrintedItem(name=str(item.get("name_zh") or item.get("generic_name") or item.get("drug_code", "")),
                       strength=str(strength or ""), quantity=f"{packs}（{pack}/包装）" if pack else str(packs),
                       usage=_usage(item), amount_cny=str(item.get("amount_cny") or ""))


def printed_prescription(payload: Mapping[str, Any], review: Mapping[str, Any], *, kind: PaperKind,
                         payload_sha256: str, department_name: str | None = None,
                         zone: tzinfo = CHINA_TIME) -> PrintedPrescription:
    """The page's words for one signed prescription and the pharmacist's signed approval."""
    patient = payload.get("patient") or {}
    visit = payload.get("visit") or {}
    department = payload.get("department") or {}
    age = patient.get("age")
    record = (patient.get("medical_record_number") or patient.get("record_number") or visit.get("visit_id")
              or patient.get("patient_id") or "")
    return PrintedPrescription(
        hospital=_name(payload.get("hospital")),
        number=str(payload.get("prescription_number", "")),
        kind=kind,
        fee_category=str(payload.get("fee_category") or SELF_PAY),
        patient_name=_name(patient),
        sex=_SEX.get(str(patient.get("sex", "")).lower(), str(patient.get("sex", ""))),
        age=f"{age} 岁" if isinstance(age, int) else str(age or ""),
        record_number=str(record),
        department=str(_name(department) or department_name or visit.get("department_code") or ""),
        diagnoses=tuple(f"{d.get('name', '')}（{d.get('icd10', '')}）" for d in payload.get("diagnoses", [])),
        issued_on=_local_day(payload.get("issued_at"), zone),
        valid_until=str(payload.get("valid_until", "")),
        items=tuple(_item(item) for item in payload.get("items", [])),
        total_cny=str(payload.get("total_cny", "")),
        doctor=_name(payload.get("doctor")),
        pharmacist=_name(review.get("pharmacist")),
        reviewed_on=_local_day(review.get("reviewed_at"), zone),
        payload_sha256=payload_sha256,
    )
