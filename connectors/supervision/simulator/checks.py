"""The regulator's checks on arrived records (SP 过程监管), as the simulated platform applies them (SUP-03).

Pure functions over plain records and a read-only `Ledger` of what the platform holds. `refusal` gives the
reason a record is refused outright (business -1); `risk_warnings` gives the warnings the platform lists
for a supervisor. The platform checks on arrival, against what it already holds: staff, catalogue and face
verifications must be uploaded before the business records that rely on them.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from connectors.supervision.gateway.methods import all_methods, business_key, is_empty

__all__ = ["Ledger", "Limits", "RiskWarning", "controlled_drugs", "refusal", "risk_warnings"]

Record = Mapping[str, Any]
STAFF = "uploadDoctorIndicators"
CATALOGUE = "uploadDrugCatalogue"
FACE = "uploadFaceVerification"
REVISIT = "uploadReferralIndicators"
CONSULT = "uploadConsultIndicators"
MEET = "uploadMeetClinicIndicators"
RECIPE = "uploadRecipeIndicators"
REVIEW = "uploadRecipeAuditIndicators"
CIRCULATION = "uploadRecipeCirculationIndicators"
RATING = "uploadBusinessInfoAfter"
DISPUTE = "pushMedicalDispute"
BUSINESS = "openDoctorBusiness"
DEPARTMENT = "uploadDepartmentInfo"  # the hospital's own method (non-standard): checked only where departments arrive
APPOINTMENT = "uploadAppointRecord"
RISK_WARNING = "3"  # pushMedicalDispute businessType of a risk warning the hospital reports (SUP-04)
PHARMACIST = "2"
VISIT_RECORDS = (REVISIT, MEET, CONSULT)  # what the platform knows of a visit, the fullest first


class Ledger(Protocol):
    def find(self, method: str, business_id: str) -> dict[str, Any] | None: ...

    def current(self, method: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Limits:
    max_use_days: int = 7  # 处方管理办法 第十九条: a prescription generally covers at most 7 days (RX-03)
    max_long_days: int = 84  # 长期处方管理规范: a long prescription for a chronic disease, with its reason, ≤ 12 weeks


@dataclass(frozen=True, slots=True)
class RiskWarning:
    check: str
    rule_id: str
    method: str
    business_id: str
    message: str


@functools.cache
def controlled_drugs() -> tuple[tuple[str, str], ...]:
    """(name, class) of 麻醉/精神 drugs from `data/controlled_drugs.csv`."""
    with (Path(__file__).parent / "data" / "controlled_drugs.csv").open(encoding="utf-8", newline="") as handle:
        return tuple((row["name"], row["drug_class"]) for row in csv.DictReader(handle))


def refusal(method: str, record: Record, ledger: Ledger, *, unit_id: str) -> str | None:
    """Why the platform refuses `record` outright (answered as business -1), or None."""
    if str(record.get("unitID")) != unit_id:
        return f"unitID {record.get('unitID')!r} is not the unit these credentials belong to"
    if method == RATING:
        rated = str(record.get("bussID"))
        sent = (m.name for m in all_methods().values() if m.business_record)
        if not any(ledger.find(m, rated) for m in sent):
            return f"bussID {rated} has no business record: upload the visit before its rating"
    return None


def _person(ledger: Ledger, cert_id: Any) -> dict[str, Any] | None:
    return next((s for s in ledger.current(STAFF) if str(s.get("doctorCertID")) == str(cert_id)), None)


def _when(value: Any) -> datetime | None:
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value)[:19], layout)
        except ValueError:
            continue
    return None


def _codes(value: Any) -> list[str]:
    return [c.strip() for c in re.split(r"[|,;，；]", str(value or "")) if c.strip()]


def _category(code: str) -> str:
    """ICD-10 category: letter and two digits (J45.901 → J45)."""
    return code.replace(".", "").upper()[:3]


def _scope(record: Record, ledger: Ledger) -> list[tuple[str, str, str]]:
    cert = record.get("doctorCertID")
    person = _person(ledger, cert)
    if person is None:
        return [("unfiled_clinician", "STAFF-04", f"clinician {cert} was never filed with the platform")]
    wanted, filed = str(record.get("subjectCode") or ""), str(person.get("subjectCode") or "")
    if wanted and filed and wanted != filed:
        return [("outside_scope", "STAFF-03",
                 f"clinician {cert} practised in subject {wanted} but is filed for {filed}")]
    return []


def _reviewer(record: Record, ledger: Ledger) -> list[tuple[str, str, str]]:
    """The reviewer's real name (SP 实名认证): a filed pharmacist, named as filed."""
    cert = record.get("auditDoctorCertID")
    if is_empty(cert):
        return []
    person = _person(ledger, cert)
    if person is None or str(person.get("doctorWorkType")) != PHARMACIST:
        return [("reviewer_not_pharmacist", "RX-06", f"reviewer {cert} is not a filed pharmacist")]
    named, filed = str(record.get("auditDoctor") or ""), str(person.get("doctorName") or "")
    if named and filed and named != filed:
        return [("reviewer_name_mismatch", "RX-06", f"reviewer {cert} signs as {named} but is filed as {filed}")]
    return []


def _visit(ledger: Ledger, buss_id: Any) -> dict[str, Any] | None:
    """What the platform holds of the visit: its revisit record, else the visit started, else the consult."""
    return next((found for method in VISIT_RECORDS if (found := ledger.find(method, str(buss_id)))), None)


def _rational(record: Record) -> list[tuple[str, str, str]]:
    """rationalFlag must agree with the coded findings sent beside it: "1" with none, "0" with some."""
    flag, issues = str(record.get("rationalFlag") or ""), _codes(record.get("rationalIssues"))
    if (flag == "1" and issues) or (flag == "0" and not issues):
        return [("rational_flag_contradiction", "SUP-03",
                 f"rationalFlag {flag} contradicts the findings {'|'.join(issues) or '(none)'}")]
    return []


def _before_visit(record: Record, ledger: Ledger) -> list[tuple[str, str, str]]:
    visit, issued = _visit(ledger, record.get("bussID")), _when(record.get("datein"))
    began = _when((visit or {}).get("startDate"))
    if issued is not None and began is not None and issued < began:
        return [("prescription_before_visit", "RX-01",
                 f"prescription issued {record.get('datein')}, before its visit began {visit and visit.get('startDate')}")]
    return []


def _approved_before(record: Record, ledger: Ledger) -> list[tuple[str, str, str]]:
    """Dispensing needs the pharmacist's approval first (RX-06, RX-08): an approving audit record, or the
    prescription reported with its review inside (a province reporting prescriptions when approved)."""
    recipe_id = str(record.get("recipeUniqueID"))
    dispensed = _when(record.get("deliveryDate"))
    review = ledger.find(REVIEW, recipe_id)
    recipe = ledger.find(RECIPE, recipe_id) or {}
    if review is not None and str(review.get("auditStatus")) == "1":
        approved = _when(review.get("checkDate"))
    elif not is_empty(recipe.get("auditDoctorCertID")):
        approved = _when(recipe.get("updateTime"))
    else:
        return [("dispensed_before_approval", "RX-08", f"prescription {recipe_id} dispensed without an approval")]
    if approved is not None and dispensed is not None and dispensed < approved:
        return [("dispensed_before_approval", "RX-08",
                 f"prescription {recipe_id} dispensed {record.get('deliveryDate')}, before its approval")]
    return []


def _booked_while_closed(record: Record, ledger: Ledger) -> list[tuple[str, str, str]]:
    """A booking taken while the doctor's online business is closed (REV-06): their latest openDoctorBusiness says 0
    before the booking, for all of it (a suspension, no period) or for a period the appointment falls in (a
    withdrawn schedule, 停诊)."""
    if str(record.get("appointStatus")) != "1":
        return []
    cert, booked_at, appointed = record.get("doctorCertID"), _when(record.get("updateTime")), _when(record.get("appointDate"))
    business = next((b for b in reversed(ledger.current(BUSINESS)) if str(b.get("doctorCertID")) == str(cert)), None)
    if business is None or str(business.get("businessStatus")) != "0":
        return []
    closed_at, start, end = _when(business.get("applyDate")), _when(business.get("startTime")), _when(business.get("endTime"))
    if closed_at is None or booked_at is None or booked_at < closed_at:
        return []
    if start is not None and end is not None and (appointed is None or not start <= appointed < end):
        return []  # another period of the doctor's, still open
    period = f" for {business.get('startTime')}–{business.get('endTime')}" if start is not None else ""
    return [("booked_while_closed", "REV-06",
             f"booking {record.get('bussID')} with clinician {cert}, whose online business was closed{period} at "
             f"{business.get('applyDate')}")]


def _department(record: Record, ledger: Ledger) -> list[tuple[str, str, str]]:
    """Where the hospital files its departments (uploadDepartmentInfo, its own method): a visit's subject must
    be an open one (INS-02). A platform holding no department record checks nothing here."""
    departments = ledger.current(DEPARTMENT)
    subject = str(record.get("subjectCode") or "")
    if not departments or not subject:
        return []
    matching = [d for d in departments if str(d.get("deptCode") or "").split(".")[0] == subject]
    if any(str(d.get("deptStatus")) == "1" for d in matching):
        return []
    state = "withdrawn" if matching else "never filed"
    return [("department_not_open", "INS-02", f"subject {subject} of {record.get('bussID')} is {state}")]


def _face(record: Record, ledger: Ledger, cert_field: str, time_field: str) -> list[tuple[str, str, str]]:
    cert, at = record.get(cert_field), _when(record.get(time_field))
    for face in ledger.current(FACE):
        if str(face.get("doctorCertID")) != str(cert) or str(face.get("verifyResult")) != "1":
            continue
        verified = _when(face.get("verifyTime"))
        if at is None or verified is None or (verified.date() == at.date() and verified <= at):
            return []
    return [("unverified_clinician", "FACE-02",
             f"no passing face verification of {cert} on the day of this record, before {record.get(time_field)}")]


def _diagnosis(record: Record, ledger: Ledger) -> list[tuple[str, str, str]]:
    revisit = _visit(ledger, record.get("bussID"))
    if revisit is None:
        return [("no_revisit", "RX-01", f"prescription for bussID {record.get('bussID')}, a revisit never uploaded")]
    prescribed = {_category(c) for c in _codes(record.get("icdCode"))}
    diagnosed = {_category(c) for c in _codes(revisit.get("mainDiagnoseCode"))}
    if prescribed and diagnosed and not prescribed & diagnosed:
        message = (f"prescription diagnosis {record.get('icdCode')} does not match the revisit's "
                   f"{revisit.get('mainDiagnoseCode')}")
        return [("diagnosis_mismatch", "RX-01", message)]
    return []


def _items(record: Record, ledger: Ledger, limits: Limits) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    catalogue_filed = bool(ledger.current(CATALOGUE))
    for item in record.get("orderList") or []:
        if not isinstance(item, Mapping):
            continue
        code = str(item.get("drcode"))
        filed = ledger.find(CATALOGUE, code)
        if filed is None:
            why = "is not in the filed drug catalogue" if catalogue_filed else "came before any drug catalogue"
            found.append(("drug_not_in_catalogue", "SUP-02", f"drug {code} {why}"))
        names = f"{item.get('drname') or ''} {(filed or {}).get('hospDrugName') or ''}"
        for name, drug_class in controlled_drugs():
            if name in names:
                found.append(("controlled_drug", "RX-02", f"{item.get('drname')} is a {drug_class} ({name})"))
                break
        try:
            days = int(str(item.get("useDays")))
        except ValueError:
            continue
        # A long prescription for a chronic disease states its reason (长期处方): up to 12 weeks then.
        limit = limits.max_long_days if not is_empty(record.get("longRecipeReason")) else limits.max_use_days
        if days > limit:
            found.append(("over_quantity", "RX-03", f"{item.get('drname')}: {days} days exceeds the {limit}-day limit"))
    return found


def risk_warnings(method: str, record: Record, ledger: Ledger, limits: Limits) -> list[RiskWarning]:
    """The warnings the platform raises for `record` (already stored in `ledger`)."""
    found: list[tuple[str, str, str]] = []
    if method in (REVISIT, RECIPE, CONSULT, "uploadElectMedicalRecord"):
        found += _scope(record, ledger)
    if method == REVISIT:
        found += _face(record, ledger, "doctorCertID", "startDate")
    if method == APPOINTMENT:
        found += _booked_while_closed(record, ledger)
    if method in (APPOINTMENT, REVISIT, CONSULT, MEET):
        found += _department(record, ledger)
    if method == RECIPE:
        found += _reviewer(record, ledger)
        found += _diagnosis(record, ledger)
        found += _before_visit(record, ledger)
        found += _rational(record)
        found += _items(record, ledger, limits)
        found += _face(record, ledger, "doctorCertID", "datein")
    if method == REVIEW:
        found += _reviewer(record, ledger)
        found += _rational(record)
        found += _face(record, ledger, "auditDoctorCertID", "checkDate")
    if method == CIRCULATION:
        found += _approved_before(record, ledger)
    if method == DISPUTE and str(record.get("businessType")) == RISK_WARNING:
        # The hospital's own risk warning (a security incident, a face lock-out, an overridden warning) is listed
        # for the supervisor as the platform's checks are.
        found.append((f"reported_{record.get('warningType') or 'warning'}", "SUP-04",
                      str(record.get("eventDescription") or "")))
    business_id = business_key(method, record)[0]
    return [RiskWarning(check, rule_id, method, business_id, message) for check, rule_id, message in found]
