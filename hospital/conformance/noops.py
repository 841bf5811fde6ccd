"""Reviewed no-ops for the rules that compute a value the use case needs (a parsed ID number, a decision, the
next delivery status): what the use case gets when the rule's checks are gone. Each parses its input as the rule
does, skipping every refusal the rule adds; an input the parse cannot read gives the type's first value (so a
use case goes on rather than crashing, and a test sees a missing refusal, not an exception). Keyed by the
rule's qualname; hospital/conformance/mutation.py consults this before deriving a no-op from the return type.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from stdnum.cn import ric

from hospital.biometrics.values import LivenessVerdict
from hospital.patients.rules import ResidentId
from hospital.prescriptions.dispensing.rules import ADDRESS_FIELDS, Fulfilment
from hospital.prescriptions.rules import CourierKind, DispensingStatus
from hospital.quality.rules import AdverseEventKind, ComplaintCategory, ComplaintStatus, Severity
from hospital.security.incidents.rules import IncidentKind, IncidentSeverity, Leak
from hospital.signing.export import ReviewDecision
from hospital.visits.icd10 import Icd10Code, validate_icd10
from hospital.visits.intake.rules.eligibility import NameCheck

__all__ = ["VALUE_NOOPS"]

E = TypeVar("E", bound=enum.Enum)


def _enum(kind: type[E], value: Any) -> E:
    try:
        return kind(value)
    except ValueError:
        return next(iter(kind))


def _resident_id(raw: str, today: date) -> ResidentId:
    number = ric.compact(raw).upper()
    try:
        birth = ric.get_birth_date(number)
    except Exception:
        birth = date(1980, 1, 1)
    sex = "male" if len(number) > 16 and number[16].isdigit() and int(number[16]) % 2 == 1 else "female"
    return ResidentId(number, birth, sex)


def _prior_code(prior: Any, *, tables: Any, **_: Any) -> Any:
    return validate_icd10(prior.icd10_code, aliases=tables.legacy_aliases)  # the parse: no window, no department


def _liveness(steps: Any, burst: Any, **_: Any) -> LivenessVerdict:
    """Every burst passes, as if it made the challenge's moves: no identity, replay, stillness or order check."""
    worst = max((f.distance for f in burst.frames), default=None)
    return LivenessVerdict(True, "match", tuple(steps), worst, "liveness not judged")


def _name_check(icd10_code: Any, name: str, *, tables: Any) -> NameCheck:
    """The code parsed, the name taken as matching: no refusal by name, no finding for the doctor."""
    code = icd10_code if isinstance(icd10_code, Icd10Code) else validate_icd10(icd10_code, aliases=tables.legacy_aliases)
    return NameCheck(code, name, None, matches=True)


VALUE_NOOPS: dict[str, Callable[..., object]] = {
    "hospital.patients.rules.check_resident_id": _resident_id,
    "hospital.quality.rules.check_adverse_event":
        lambda kind, severity, *args, **kwargs: (_enum(AdverseEventKind, kind), _enum(Severity, severity)),
    "hospital.quality.rules.check_complaint": lambda category, description: _enum(ComplaintCategory, category),
    "hospital.quality.rules.check_complaint_response":
        lambda current, outcome, response: _enum(ComplaintStatus, outcome),
    "hospital.visits.intake.rules.eligibility.check_prior_diagnosis_valid": _prior_code,
    "hospital.visits.intake.rules.eligibility.check_diagnosis_name": _name_check,
    "hospital.biometrics.rules.judge_liveness": _liveness,
    "hospital.institution.rules.check_service_stop_reason": lambda reason_code, reason: " ".join(reason.split()),
    "hospital.prescriptions.rules.check_decision": lambda decision, reasons, reason_codes=(): _enum(ReviewDecision,
                                                                                                     decision),
    "hospital.prescriptions.rules.check_courier":
        lambda kind, name: (_enum(CourierKind, kind), (name or "").strip() or "本院配送"),
    "hospital.prescriptions.dispensing.rules.check_delivery_address":
        lambda address: {k: (address.get(k) or "").strip() for k in ADDRESS_FIELDS},  # trimmed, nothing refused
    "hospital.prescriptions.dispensing.rules.check_fulfilment_choice":
        lambda method, *, already_dispensed, status: _enum(Fulfilment, method),  # any time, any state
    "hospital.prescriptions.rules.countersignature_needed": lambda *args, **kwargs: False,  # no child waits for one
    "hospital.prescriptions.rules.next_delivery_status":
        lambda current, target, *, tracking_number: _enum(DispensingStatus, target),
    "hospital.security.incidents.rules.check_assessment":
        lambda status, leak, reported_any, note: _enum(Leak, leak),
    "hospital.security.incidents.rules.check_new_incident":
        lambda kind, severity, leak, *args, **kwargs: (_enum(IncidentKind, kind), _enum(IncidentSeverity, severity),
                                                       _enum(Leak, leak)),
    "hospital.security.incidents.rules.check_report":
        lambda status, codes, *args, **kwargs: tuple(dict.fromkeys(codes)),
    "hospital.security.incidents.rules.required_authorities": lambda *args, **kwargs: (),  # requires no report
}
