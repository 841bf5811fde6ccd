"""The contract's FIRST payload shapes, from before the visits, prescriptions and quality areas landed.

The areas on main emit other keys (docs/connector.md lists them; tests/integration/connector/
test_real_events_map.py and test_real_events_fhir.py map the real events). These examples stay because some
delivery and scripted-day tests emit them and the gateway mappers still accept them; the FHIR adapter reads only
the real events.

Times are ISO 8601 with an offset; people are named by id (`*_user_id`, `patient_id`), never by ID number.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "dispensing",
    "emr_signed",
    "prescription_approved",
    "rating",
    "review",
    "visit_booked",
    "visit_completed",
]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def visit_booked(visit_id: str, patient_id: str, doctor_user_id: str, at: datetime,
                 department_code: str = "03.03") -> dict[str, Any]:
    return {"visit_id": visit_id, "patient_id": patient_id, "doctor_user_id": doctor_user_id,
            "department_code": department_code, "booked_at": _iso(at), "starts_at": _iso(at + timedelta(minutes=30)),
            "mode": "video"}


def visit_completed(visit_id: str, patient_id: str, doctor_user_id: str, started: datetime, *,
                    department_code: str = "03.03", icd10_code: str = "I10", name: str = "原发性高血压",
                    this_icd10_code: str | None = None) -> dict[str, Any]:
    return {
        "visit_id": visit_id, "patient_id": patient_id, "doctor_user_id": doctor_user_id,
        "department_code": department_code, "requested_at": _iso(started - timedelta(minutes=20)),
        "accepted_at": _iso(started - timedelta(minutes=1)), "started_at": _iso(started),
        "ended_at": _iso(started + timedelta(minutes=15)), "revisit_confirmed": True,
        "prior_diagnosis": {"icd10_code": icd10_code, "name": name, "institution_name": "示范市第一人民医院",
                            "diagnosed_on": (started - timedelta(days=90)).date().isoformat()},
        "diagnosis": {"icd10_code": this_icd10_code or icd10_code, "name": name},
        "guardian": None, "termination_reason": None,
    }


def emr_signed(visit_id: str, patient_id: str, doctor_user_id: str, at: datetime) -> dict[str, Any]:
    return {"visit_id": visit_id, "patient_id": patient_id, "doctor_user_id": doctor_user_id,
            "department_code": "03.03", "chief_complaint": "血压控制复诊", "present_illness": "规律服药，血压平稳",
            "past_history": "高血压3年", "diagnosis": {"icd10_code": "I10", "name": "原发性高血压"},
            "signed_at": _iso(at)}


def prescription_approved(prescription_id: str, visit_id: str, patient_id: str, doctor_user_id: str,
                          pharmacist_user_id: str, issued: datetime, *, drug_code: str = "C08CA01-tab-5mg",
                          drug_name: str = "苯磺酸氨氯地平片", days: int = 7, icd10_code: str = "I10"
                          ) -> dict[str, Any]:
    return {
        "prescription_id": prescription_id, "number": f"RX{prescription_id[:8]}", "visit_id": visit_id,
        "patient_id": patient_id, "doctor_user_id": doctor_user_id, "pharmacist_user_id": pharmacist_user_id,
        "department_code": "03.03", "diagnoses": [{"icd10_code": icd10_code, "name": "原发性高血压"}],
        "kind": "western", "issued_at": _iso(issued), "valid_days": 3, "signature": "eyJhbGciOiJFUzI1NiJ9.demo.sig",
        "approved_at": _iso(issued + timedelta(minutes=5)), "total_fee": "9.80",
        "items": [{"drug_code": drug_code, "drug_name": drug_name, "spec": "5mg*28片", "route": "口服",
                   "frequency": "qd", "dose": "5", "dose_unit": "mg", "quantity": 1, "quantity_unit": "盒",
                   "days": days, "otc": False}],
    }


def review(prescription_id: str, pharmacist_user_id: str, at: datetime, decision: str = "approved",
           findings: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"prescription_id": prescription_id, "pharmacist_user_id": pharmacist_user_id, "decision": decision,
            "findings": findings or [], "signature": "eyJhbGciOiJFUzI1NiJ9.review.sig", "reviewed_at": _iso(at)}


def dispensing(prescription_id: str, pharmacist_user_id: str, at: datetime, status: str = "dispensed"
               ) -> dict[str, Any]:
    return {"prescription_id": prescription_id, "pharmacist_user_id": pharmacist_user_id,
            "delivery_type": "delivery", "status": status, "courier": "示范快递", "dispensed_at": _iso(at),
            "shipped_at": _iso(at + timedelta(minutes=30)), "finished_at": None}


def rating(rating_id: str, visit_id: str, doctor_user_id: str, at: datetime) -> dict[str, Any]:
    return {"rating_id": rating_id, "visit_id": visit_id, "doctor_user_id": doctor_user_id,
            "department_code": "03.03", "satisfaction": 5, "score": 10, "comment": "医生很耐心", "rated_at": _iso(at)}
