"""Writing and signing a prescription, revising a rejected one (RX-01…RX-05, RX-07).

Writing is one use case: the visit's doctor, in an accepted or running visit, with a face verification younger
than the signing window (FACE-03), submits the draft; every prescription rule runs; a blocking finding refuses
with 422 naming the rule, warnings are kept for the pharmacist; the payload (with the verification it rests on)
is signed as the doctor's JWS and stored pending review. Nothing else creates prescriptions: no job, no
endpoint without a signing doctor (RX-07).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.biometrics.gate import require_signing_freshness
from hospital.context import HospitalContext
from hospital.contracts.prescriptions import PrescriptionDocument, PrescriptionSubmitted
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import Conflict, IntegrityFailure, NotFound, RuleViolation
from hospital.core.outbox import emit
from hospital.core.rule_registry import Finding, Severity
from hospital.identity.tokens import Principal
from hospital.institution.service import department_name
from hospital.patients.models import Patient
from hospital.patients.rules import age_on
from hospital.prescriptions.formulary.queries import formulary_of
from hospital.prescriptions.formulary.values import Formulary, Impairment
from hospital.prescriptions.models import Prescription, PrescriptionCheck
from hospital.prescriptions.queries import finding_parts, findings_json, open_json, prescription_in_scope, seal_json
from hospital.prescriptions.rules import (
    PrescriptionStatus,
    check_revisable,
    check_signed_by_hand,
    countersignature_needed,
)
from hospital.prescriptions.safety.service import facts_for_visit
from hospital.prescriptions.safety.values import Pregnancy
from hospital.prescriptions.writing import documents
from hospital.prescriptions.writing.documents import DraftInput
from hospital.prescriptions.writing.rules import blocking, check_prescription
from hospital.prescriptions.writing.values import DraftOrigin, PrescribedItem, PrescriptionDraft, RxSettings
from hospital.signing import service as signing
from hospital.signing.canonical import canonical_json
from hospital.staff.models import StaffMember
from hospital.staff.rules import covers_paediatrics, practising_certificate_code
from hospital.staff.service import require_clinical_act
from hospital.visits.booking.models import Visit
from hospital.visits.encounter.service.lifecycle import check_prescription_diagnoses, require_visit_open_for_prescribing
from hospital.visits.intake.models import PriorDiagnosisOnFile, PriorDiagnosisRecord, open_prior

__all__ = ["CHECK_VALID_FOR", "check_draft", "report_submitted", "revise_prescription", "rx_settings",
           "submit_prescription"]


CHECK_VALID_FOR = timedelta(minutes=30)  # a dry run older than this is checked again before signing


def rx_settings(ctx: HospitalContext) -> RxSettings:
    """The hospital's prescription thresholds (Settings.rx_*; `Settings.check` refuses any beyond the regulation)."""
    s = ctx.settings
    return RxSettings(high_amount_threshold_cny=Decimal(s.rx_high_amount_threshold_cny),
                      default_max_days=s.rx_default_max_days, long_max_days=s.rx_long_max_days)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """Everything the rules and the payload need about one draft in one visit, and the rules' findings."""

    visit: Visit
    member: StaffMember
    prior: PriorDiagnosisOnFile
    patient: Patient
    issued_on: date
    formulary: Formulary
    items: tuple[PrescribedItem, ...]
    findings: list[Finding]
    draft_sha256: str
    safety_context_id: uuid.UUID | None


async def _prepare(session: AsyncSession, ctx: HospitalContext, principal: Principal, visit_id: uuid.UUID,
                   draft: DraftInput, supersedes: Prescription | None) -> _Prepared:
    """Load the visit, the doctor, the patient and their state; run every prescription rule on the draft."""
    visit = await require_visit_open_for_prescribing(session, ctx, visit_id, principal.user_id)
    check_prescription_diagnoses(ctx, [d.icd10 for d in draft.diagnoses])  # REV-03 for every diagnosis
    # INS-01/02, QA-02, STAFF-03 at the moment of prescribing, not only at booking
    member = await require_clinical_act(session, ctx, principal.user_id, department=visit.department_code)
    record = await session.get(PriorDiagnosisRecord, visit.prior_diagnosis_id)
    patient = await session.get(Patient, visit.patient_id)
    if record is None or patient is None:
        raise IntegrityFailure("the visit's prior diagnosis or patient record is missing")
    prior = open_prior(ctx.cipher, record)
    issued_on = ctx.local_date(ctx.now())
    formulary = formulary_of(ctx)
    items = documents.prescribed_items(draft, formulary)
    facts = await facts_for_visit(session, ctx, visit)  # RX-04: the patient's allergies and state
    context = facts.context
    findings = check_prescription(PrescriptionDraft(
        items=items, diagnoses_icd10=tuple(d.icd10 for d in draft.diagnoses),
        prior_diagnoses_icd10=(prior.icd10_code,), issued_on=issued_on, patient_birth_date=patient.birth_date,
        origin=DraftOrigin.CLINICIAN, prescriber_id=str(member.id), validity_days=draft.validity_days,
        long_prescription_reason=draft.long_prescription_reason, guardian_recorded=visit.guardian_sealed is not None,
        long_prescription_code=draft.long_prescription_code, prescriber_title=member.title,
        allergy_statement=facts.context is not None, patient_allergies=context.allergies if context else (),
        pregnant=context is not None and context.pregnancy is Pregnancy.PREGNANT,
        pregnancy_unknown=context is not None and context.pregnancy is Pregnancy.UNKNOWN,
        lactating=context is not None and context.lactating,
        renal=context.renal_category if context else Impairment.NONE,
        hepatic=context.hepatic if context else Impairment.NONE, weight_kg=facts.weight_kg,
        prescriber_antimicrobial_grade=member.antimicrobial_grade,
        current_effective_items=await _items_in_effect(session, ctx, visit.patient_user_id, issued_on)), formulary,
        settings=rx_settings(ctx))
    digest = documents.draft_sha256(draft, visit_id=str(visit.id),
                                    supersedes_id=str(supersedes.id) if supersedes else None)
    return _Prepared(visit, member, prior, patient, issued_on, formulary, items, findings, digest,
                     uuid.UUID(facts.version_id) if facts.version_id else None)


async def check_draft(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                      visit_id: uuid.UUID | None, draft: DraftInput, *,
                      revision_of: uuid.UUID | None = None) -> dict[str, Any]:
    """The doctor's dry run (RX-07): every rule on the draft, nothing signed. Returns the findings and the
    draft's canonical hash; a draft without blocking findings is recorded so that signing may name it."""
    supersedes = None
    if revision_of is not None:
        supersedes = await _revisable(session, ctx, principal, revision_of)
        visit_id = supersedes.visit_id
    assert visit_id is not None
    prepared = await _prepare(session, ctx, principal, visit_id, draft, supersedes)
    refusals = blocking(prepared.findings)
    now = ctx.now()
    check_id = None
    if not refusals:
        check = PrescriptionCheck(visit_id=prepared.visit.id, doctor_user_id=principal.user_id,
                                  supersedes_id=supersedes.id if supersedes else None,
                                  draft_sha256=prepared.draft_sha256, checked_at=now)
        session.add(check)
        await session.flush()
        check_id = check.id
    await append_audit(session, actor, "prescription.checked", subject_type="visit", subject_id=prepared.visit.id,
                       rule_id="RX-07", detail={"draft_sha256": prepared.draft_sha256, "signable": not refusals,
                                                "rule_ids": sorted({f.rule_id for f in prepared.findings})})
    await session.commit()
    return {"draft_sha256": prepared.draft_sha256, "signable": not refusals,
            "check_id": str(check_id) if check_id else None,
            "valid_until": (now + CHECK_VALID_FOR).isoformat() if check_id else None,
            "findings": findings_json(prepared.findings),
            "rule_ids": sorted({f.rule_id for f in refusals})}


async def submit_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                              visit_id: uuid.UUID, draft: DraftInput, named_sha256: str,
                              signature: signing.DeviceSignature) -> Prescription:
    """The doctor signs the draft they checked on their device; it waits for a pharmacist (RX-06)."""
    prescription = await _write(session, ctx, actor, principal, visit_id, draft, named_sha256, signature,
                                supersedes=None)
    await session.commit()
    return prescription


async def _revisable(session: AsyncSession, ctx: HospitalContext, principal: Principal, prescription_id: uuid.UUID
                     ) -> Prescription:
    old = await prescription_in_scope(session, principal, prescription_id, now=ctx.now())
    if old.doctor_user_id != principal.user_id:
        raise NotFound("no such prescription")
    check_revisable(old.status, old.superseded_by_id is not None)
    return old


async def revise_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                              prescription_id: uuid.UUID, draft: DraftInput, named_sha256: str,
                              signature: signing.DeviceSignature) -> Prescription:
    """After a rejection the doctor signs a new version; the rejected one is kept and points to it."""
    old = await _revisable(session, ctx, principal, prescription_id)
    new = await _write(session, ctx, actor, principal, old.visit_id, draft, named_sha256, signature, supersedes=old)
    marked = await session.execute(
        update(Prescription).where(col(Prescription.id) == old.id, col(Prescription.version) == old.version,
                                   col(Prescription.superseded_by_id).is_(None))
        .values(superseded_by_id=new.id, version=old.version + 1, updated_at=ctx.now()))
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this version was revised meanwhile; revise the newest version", rule_id="RX-06")
    await session.commit()
    return new


async def _take_dry_run(session: AsyncSession, ctx: HospitalContext, principal: Principal, prepared: _Prepared,
                        named_sha256: str, supersedes: Prescription | None) -> uuid.UUID:
    """The doctor's unused, recent dry run of exactly this draft, marked used (RX-07); refused otherwise."""
    now = ctx.now()
    found = (await session.execute(select(PrescriptionCheck).where(
        PrescriptionCheck.visit_id == prepared.visit.id, PrescriptionCheck.doctor_user_id == principal.user_id,
        PrescriptionCheck.draft_sha256 == prepared.draft_sha256, col(PrescriptionCheck.used_at).is_(None),
        PrescriptionCheck.supersedes_id == (supersedes.id if supersedes else None),
        col(PrescriptionCheck.checked_at) >= now - CHECK_VALID_FOR,
    ).order_by(col(PrescriptionCheck.checked_at).desc()))).scalars().first()
    check_signed_by_hand(named_sha256, prepared.draft_sha256, found is not None)
    assert found is not None
    taken = await session.execute(update(PrescriptionCheck).where(
        col(PrescriptionCheck.id) == found.id, col(PrescriptionCheck.used_at).is_(None)).values(used_at=now,
                                                                                              updated_at=now))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this dry run was just used to sign a prescription", rule_id="RX-07")
    return found.id


async def _write(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                 visit_id: uuid.UUID, draft: DraftInput, named_sha256: str, signature: signing.DeviceSignature, *,
                 supersedes: Prescription | None) -> Prescription:
    require_signing_freshness(ctx, principal)  # FACE-03: the signature is bound to the verified person
    prepared = await _prepare(session, ctx, principal, visit_id, draft, supersedes)
    visit, member, prior, patient = prepared.visit, prepared.member, prepared.prior, prepared.patient
    issued_on, formulary, items, findings = prepared.issued_on, prepared.formulary, prepared.items, prepared.findings
    refusals = blocking(findings)
    if refusals:
        raise RuleViolation(refusals[0].rule_id, " ".join(f.message for f in refusals),
                            rule_ids=sorted({f.rule_id for f in refusals}), findings=findings_json(refusals))
    check_id = await _take_dry_run(session, ctx, principal, prepared, named_sha256, supersedes)
    # RX-05: the doctor's device signs; on the second trip the number and time prepared on the first are reused
    act = f"prescription:{prepared.draft_sha256}"
    earlier = signing.requested_payload(ctx, principal.user_id, act, signature)
    now = datetime.fromisoformat(earlier["issued_at"]) if earlier else ctx.now()
    revision = supersedes.revision + 1 if supersedes else 1
    if earlier:
        number = str(earlier["prescription_number"])
        base = number.removesuffix(f"-{revision}") if revision > 1 else number
    else:
        base = supersedes.base_number if supersedes else f"RX{issued_on:%Y%m%d}-{secrets.token_hex(4).upper()}"
        number = f"{base}-{revision}" if revision > 1 else base
    age = age_on(patient.birth_date, issued_on)
    # REV-05 / PD 17: a child under 6's prescription by a doctor whose scope is not paediatrics waits for a second,
    # paediatric doctor's countersignature; the pharmacist does not see it before (nor does the platform)
    awaiting = countersignature_needed(age, covers_paediatrics(member.practice_scope))
    assert principal.face_verified_at is not None  # require_signing_freshness passed
    payload = documents.build_payload(
        number=number, revision=revision, supersedes=supersedes.number if supersedes else None, issued_at=now,
        issued_on=issued_on, time_zone=ctx.time_zone, hospital=ctx.settings.hospital_name,
        visit={"visit_id": str(visit.id), "department_code": visit.department_code, "mode": visit.mode},
        department={"code": visit.department_code, "name": await department_name(session, visit.department_code) or ""},
        # issue 19: named by the hospital's numbers, the ID number only by its keyed hash (never in clear)
        patient={"patient_id": str(patient.id), "medical_record_number": patient.medical_record_number,
                 "id_number_hash": patient.id_number_hash, "name": patient.real_name, "sex": patient.sex, "age": age},
        prior_diagnosis={"icd10": prior.icd10_code, "name": prior.diagnosis_name,
                         "institution": prior.institution_name, "diagnosed_on": prior.diagnosed_on.isoformat()},
        draft=draft, items=items, formulary=formulary, guardian_present=visit.guardian_sealed is not None,
        doctor={"staff_id": str(member.id), "name": member.real_name, "title": member.title,
                "practising_certificate_code": practising_certificate_code(member.credentials),
                "certificate_serial": await signing.device_serial(session, principal.user_id, signature)},
        face_verification={"practice_session_id": str(principal.practice_session_id),
                           "verified_at": principal.face_verified_at},
        origin=DraftOrigin.CLINICIAN.value, checked_draft_sha256=prepared.draft_sha256)
    doctor = await signing.require_device_signature(session, ctx, principal.user_id, act, payload, signature)
    token = doctor.jws
    kept = findings_json([f for f in findings if f.severity is not Severity.BLOCK])
    rx_id = uuid.uuid4()
    prescription = Prescription(
        id=rx_id, number=number, base_number=base, revision=revision,
        supersedes_id=supersedes.id if supersedes else None, visit_id=visit.id,
        patient_user_id=visit.patient_user_id, doctor_user_id=principal.user_id,
        doctor_credential_id=doctor.credential.id, department_code=visit.department_code,
        status=PrescriptionStatus.AWAITING_COUNTERSIGN if awaiting else PrescriptionStatus.PENDING_REVIEW,
        issued_at=now, valid_until=documents.valid_until(
            issued_on, draft.validity_days),
        supply_until=issued_on + timedelta(days=max(i.days_supply for i in items) - 1), total_cny=payload["total_cny"],
        payload_sealed=seal_json(ctx, payload, "prescription.payload", rx_id),
        payload_sha256=hashlib.sha256(canonical_json(payload)).hexdigest(),
        doctor_jws_sealed=seal_json(ctx, token, "prescription.doctor_jws", rx_id),
        findings_sealed=seal_json(ctx, kept, "prescription.findings", rx_id),
        warnings=sum(f["severity"] == str(Severity.WARN) for f in kept), practice_session_id=principal.practice_session_id,
        face_verified_at=principal.face_verified_at, origin=DraftOrigin.CLINICIAN.value, draft_check_id=check_id,
        safety_context_id=prepared.safety_context_id)
    session.add(prescription)
    await session.flush()
    await append_audit(session, actor, "prescription.signed", subject_type="prescription", subject_id=rx_id,
                       rule_id="RX-05", detail={"number": number, "revision": revision, "visit_id": visit.id,
                                                "origin": DraftOrigin.CLINICIAN.value, "draft_check_id": check_id,
                                                "awaiting_countersign": awaiting,
                                                "warnings": sorted({f["rule_id"] for f in kept
                                                                    if f["severity"] == str(Severity.WARN)})})
    if not awaiting:
        await report_submitted(session, ctx, prescription, payload, token, kept, member,
                                doctor.credential.serial, supersedes)
    return prescription


async def report_submitted(session: AsyncSession, ctx: HospitalContext, prescription: Prescription,
                            payload: dict[str, Any], token: str, kept: list[Any], member: StaffMember,
                            certificate_serial: str, supersedes: Prescription | None) -> None:
    """The platform learns of a prescription when it goes to the pharmacist (RX-06, RX-08)."""
    rx_id, number, base, revision, visit_id = (prescription.id, prescription.number, prescription.base_number,
                                               prescription.revision, prescription.visit_id)
    now = prescription.issued_at
    # REC-03: the document, its JWS and the findings name the patient and the diagnoses (sealed, see the contract)
    await emit(session, "prescription.submitted", subject_type="prescription", subject_id=rx_id,
               version=prescription.version, payload=PrescriptionSubmitted(
                   prescription_id=str(rx_id), prescription_number=number, base_number=base, revision=revision,
                   supersedes=supersedes.number if supersedes else None, visit_id=str(visit_id),
                   department_code=prescription.department_code, doctor_staff_id=str(member.id),
                   doctor_certificate_serial=certificate_serial, issued_at=now,
                   valid_until=prescription.valid_until, status=prescription.status,
                   payload_sha256=prescription.payload_sha256,
                   prescription=msgspec.convert(payload, PrescriptionDocument),  # as signed
                   doctor_jws=token, findings=finding_parts(kept)),
               cipher=ctx.cipher)


async def _items_in_effect(session: AsyncSession, ctx: HospitalContext, patient_user_id: uuid.UUID,
                           today: Any) -> tuple[str, ...]:
    """Drug codes of the patient's prescriptions still being taken (pending or approved), for RX-03/RX-04."""
    found = (await session.execute(select(Prescription).where(
        Prescription.patient_user_id == patient_user_id, col(Prescription.supply_until) >= today,
        col(Prescription.status).in_([PrescriptionStatus.AWAITING_COUNTERSIGN, PrescriptionStatus.PENDING_REVIEW,
                                      PrescriptionStatus.APPROVED])))).scalars()
    return tuple(item["drug_code"] for rx in found
                 for item in open_json(ctx, rx.payload_sealed, "prescription.payload", rx.id)["items"])
