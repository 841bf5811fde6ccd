"""The pharmacist's review (审方, RX-06): approve or reject, signed as a second JWS.

Only a pharmacist in a practice session (FACE-02), who did not write the prescription, decides, and only
once: the decision is a conditional UPDATE on the prescription's version, so of two pharmacists deciding at
the same moment one wins and the other gets 409. The doctor's signature is checked first (chain, revocation,
and that it covers exactly the stored document), so nobody approves a document the doctor did not sign.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.biometrics.gate import require_practice_session
from hospital.context import HospitalContext
from hospital.contracts.prescriptions import PrescriptionReviewed, PrescriptionVoided, review_event_types
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import Conflict, IntegrityFailure, NotFound
from hospital.core.messages import say
from hospital.core.outbox import emit
from hospital.identity.tokens import Principal
from hospital.institution.service import require_licence_in_force
from hospital.prescriptions.formulary.queries import formulary_of
from hospital.prescriptions.models import Prescription, PrescriptionReview
from hospital.prescriptions.queries import (
    finding_parts,
    open_json,
    open_to,
    prescription_for_act,
    prescription_in_scope,
    seal_json,
)
from hospital.prescriptions.rules import (
    PrescriptionStatus,
    ReviewDecision,
    check_acknowledgements,
    check_claim,
    check_decision,
    check_high_alert_double_checks,
    check_reviewable,
    check_reviewer,
    check_visit_not_ended,
    check_withdrawable,
    rejection_reasons,
)
from hospital.signing import service as signing
from hospital.signing.errors import SignatureInvalid
from hospital.signing.export import review_payload
from hospital.staff.service import require_clinical_act
from hospital.visits.booking.events import VisitEnded
from hospital.visits.booking.models import Visit

__all__ = ["claim_prescription", "on_visit_ended", "release_claim", "require_visit_not_ended",
           "review_prescription", "verified_document", "withdraw_prescription"]


async def _claims_held(session: AsyncSession, principal: Principal, now: datetime, *, besides: uuid.UUID
                       ) -> list[str]:
    """The numbers of the other pending prescriptions `principal` holds a live claim on."""
    held = (await session.execute(select(Prescription.number).where(
        Prescription.claimed_by_user_id == principal.user_id, col(Prescription.claimed_until) > now,
        Prescription.status == PrescriptionStatus.PENDING_REVIEW, col(Prescription.id) != besides))).scalars().all()
    return list(held)


async def claim_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                             prescription_id: uuid.UUID) -> Prescription:
    """A pharmacist takes a pending prescription from the queue (RX-06): other pharmacists no longer see it
    until they decide it or the claim lapses (`Settings.rx_claim_minutes`); a lapse only puts it back in the
    queue. Claiming it again extends the claim."""
    now = ctx.now()
    rx = await prescription_for_act(session, principal, prescription_id, now=now)
    check_reviewer(principal.role, principal.user_id, rx.doctor_user_id)
    check_reviewable(rx.status)
    check_claim(principal.user_id, rx.claimed_by_user_id, rx.claimed_until,
                held_elsewhere=await _claims_held(session, principal, now, besides=rx.id), now=now)
    until = now + timedelta(minutes=ctx.settings.rx_claim_minutes)
    claimed = await session.execute(
        update(Prescription).where(col(Prescription.id) == rx.id,
                                   col(Prescription.status) == PrescriptionStatus.PENDING_REVIEW,
                                   open_to(principal, now))
        .values(claimed_by_user_id=principal.user_id, claimed_until=until))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(say("review.claimed_first"), rule_id="RX-06")
    await append_audit(session, actor, "prescription.claimed", subject_type="prescription", subject_id=rx.id,
                       rule_id="RX-06", detail={"number": rx.number, "claimed_until": until.isoformat()})
    await session.commit()
    return rx


async def release_claim(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                        prescription_id: uuid.UUID) -> None:
    """The pharmacist gives a claimed prescription back to the queue undecided (RX-06)."""
    now = ctx.now()
    rx = await prescription_for_act(session, principal, prescription_id, now=now)
    released = await session.execute(
        update(Prescription).where(col(Prescription.id) == rx.id,
                                   col(Prescription.claimed_by_user_id) == principal.user_id,
                                   col(Prescription.claimed_until) > now)
        .values(claimed_by_user_id=None, claimed_until=None))
    if released.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("you hold no claim on this prescription", rule_id="RX-06")
    await append_audit(session, actor, "prescription.released", subject_type="prescription", subject_id=rx.id,
                       rule_id="RX-06", detail={"number": rx.number})
    await session.commit()


async def verified_document(session: AsyncSession, ctx: HospitalContext, rx: Prescription) -> dict[str, object]:
    """The stored document, after checking the doctor's JWS covers exactly it and was valid when signed (RX-05).

    Checked at the signing time (a trusted database time): a later suspension (privilege withdrawn) does not
    undo what was validly signed before it; a key compromise is revoked retroactively by the CRL anyway.
    """
    token = open_json(ctx, rx.doctor_jws_sealed, "prescription.doctor_jws", rx.id)
    try:
        verified = await signing.verify_signature(session, ctx, token, at=rx.issued_at)
    except SignatureInvalid as exc:
        raise IntegrityFailure(f"the doctor's signature on {rx.number} no longer verifies: {exc.detail}",
                               rule_id="RX-05", reason_code=str(exc.reason_code)) from exc
    document: dict[str, object] = open_json(ctx, rx.payload_sealed, "prescription.payload", rx.id)
    if hashlib.sha256(verified.payload_bytes).hexdigest() != rx.payload_sha256 or verified.payload != document:
        raise IntegrityFailure(f"the stored document of {rx.number} is not what the doctor signed", rule_id="RX-05")
    return document


async def review_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                              prescription_id: uuid.UUID, decision: str, reasons: Sequence[str],
                              expected_version: int | None = None, *,
                              acknowledgements: Sequence[tuple[int, str]] = (),
                              reason_codes: Sequence[str] = (),
                              double_checks: Sequence[tuple[str, Sequence[str]]] = (),
                              signature: signing.DeviceSignature | None = None) -> PrescriptionReview:
    """Approve (the prescription takes effect) or reject with reasons back to the doctor (RX-06)."""
    rx = await prescription_for_act(session, principal, prescription_id, now=ctx.now())
    check_reviewer(principal.role, principal.user_id, rx.doctor_user_id)
    require_practice_session(ctx, principal)  # FACE-02: a pharmacist verifies before reviewing
    chosen = check_decision(decision, reasons, reason_codes)
    check_reviewable(rx.status)
    now = ctx.now()
    check_claim(principal.user_id, rx.claimed_by_user_id, rx.claimed_until,
                held_elsewhere=await _claims_held(session, principal, now, besides=rx.id), now=now)
    await require_visit_not_ended(session, rx)
    version = expected_version if expected_version is not None else rx.version
    if version != rx.version:
        raise Conflict(f"the prescription changed since you opened it (version {rx.version}, not {version})",
                       rule_id="RX-06", current_version=rx.version)
    await require_licence_in_force(session, ctx)
    member = await require_clinical_act(session, ctx, principal.user_id, licence_department=rx.department_code)
    document = await verified_document(session, ctx, rx)
    findings = open_json(ctx, rx.findings_sealed, "prescription.findings", rx.id)
    acknowledged = (check_acknowledgements([f["severity"] for f in findings], acknowledgements)
                    if chosen is ReviewDecision.APPROVE else [])
    for ack in acknowledged:  # what was acknowledged, named in the signed review
        ack["rule_id"] = findings[int(str(ack["finding"]))]["rule_id"]
    formulary = formulary_of(ctx)
    items: list[dict[str, Any]] = list(document.get("items", []))  # type: ignore[call-overload]
    high_alert = [str(i["drug_code"]) for i in items
                  if (drug := formulary.get(str(i["drug_code"]))) is not None and drug.high_alert]
    checked = (check_high_alert_double_checks(high_alert, double_checks)
               if chosen is ReviewDecision.APPROVE else [])
    codes = list(dict.fromkeys(reason_codes))
    # the doctor reads each coded reason in words, then the pharmacist's notes (处方点评 categories, RX-06)
    kept_reasons = [f"{rejection_reasons()[c]['name_zh']}（{c}）" for c in codes] + [r.strip() for r in reasons
                                                                                  if r.strip()]
    # RX-05/06: the pharmacist's device signs the decision over the doctor's JWS itself; the second trip reuses
    # the time prepared on the first
    signature = signature or signing.DeviceSignature()
    act = f"review:{rx.id}:{version}"
    earlier = signing.requested_payload(ctx, principal.user_id, act, signature)
    reviewed_at = datetime.fromisoformat(earlier["reviewed_at"]) if earlier else now
    payload = review_payload(document, decision=chosen, reasons=kept_reasons, pharmacist_name=member.real_name,
                             pharmacist_staff_id=str(member.id), reviewed_at=reviewed_at, prescription_number=rx.number,
                             prescription_jws=open_json(ctx, rx.doctor_jws_sealed, "prescription.doctor_jws", rx.id))
    payload["acknowledgements"] = acknowledged  # signed with the decision (RX-06)
    payload["reason_codes"] = codes
    payload["double_checks"] = checked  # the high-alert drugs checked again, signed (RX-06)
    pharmacist = await signing.require_device_signature(session, ctx, principal.user_id, act, payload, signature)
    token = pharmacist.jws
    status = PrescriptionStatus.APPROVED if chosen is ReviewDecision.APPROVE else PrescriptionStatus.REJECTED
    # The race is decided here, before any other lock is taken (the audit chain's comes after).
    decided = await session.execute(
        update(Prescription).where(col(Prescription.id) == rx.id, col(Prescription.version) == version,
                                   col(Prescription.status) == PrescriptionStatus.PENDING_REVIEW,
                                   open_to(principal, now))
        .values(status=status, version=version + 1, reviewed_at=reviewed_at, updated_at=now, claimed_until=None))
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(say("review.decided_first"), rule_id="RX-06")
    review_id = uuid.uuid4()
    review = PrescriptionReview(
        id=review_id, prescription_id=rx.id, decision=str(chosen),
        reasons_sealed=seal_json(ctx, kept_reasons, "review.reasons", review_id), pharmacist_user_id=principal.user_id,
        pharmacist_credential_id=pharmacist.credential.id, review_jws_sealed=seal_json(ctx, token, "review.jws", review_id),
        practice_session_id=principal.practice_session_id, reviewed_at=reviewed_at, acknowledgements=acknowledged,
        reason_codes=codes, double_checks=checked)
    session.add(review)
    await session.flush()
    await append_audit(session, actor, f"prescription.{status}", subject_type="prescription", subject_id=rx.id,
                       rule_id="RX-06", detail={"number": rx.number, "decision": str(chosen),
                                                "reasons": len(kept_reasons), "reason_codes": codes,
                                                "double_checks": checked,
                                                "acknowledgements": acknowledged})
    reviewed = PrescriptionReviewed(
        prescription_id=str(rx.id), prescription_number=rx.number, review_id=str(review_id),
        decision="approve" if chosen is ReviewDecision.APPROVE else "reject", reasons=kept_reasons, reason_codes=codes,
        pharmacist_staff_id=str(member.id), pharmacist_certificate_serial=pharmacist.credential.serial,
        reviewed_at=reviewed_at, payload_sha256=rx.payload_sha256, review_jws=token,
        findings=finding_parts(findings), status=str(status))
    for event_type in review_event_types(reviewed):  # the decision, the verification, an override (SUP-02/04)
        await emit(session, event_type, subject_type="prescription", subject_id=rx.id, version=version + 1,
                   payload=reviewed, cipher=ctx.cipher)  # REC-03: reasons, JWS and findings sealed (the contract)
    await session.commit()
    return review


async def require_visit_not_ended(session: AsyncSession, rx: Prescription) -> None:
    """RX-06: a prescription of a terminated or cancelled visit is neither approved nor dispensed (422)."""
    visit = await session.get(Visit, rx.visit_id)
    if visit is None:
        raise IntegrityFailure(f"the visit of {rx.number} is missing")
    check_visit_not_ended(visit.state)


async def on_visit_ended(session: AsyncSession, ctx: HospitalContext, ended: VisitEnded) -> None:
    """Subscriber to `VisitEnded`: the visit's prescriptions still pending review are voided, each audited and
    reported, in the transaction that ended the visit (RX-06, REV-04). Decided ones keep their state; an
    approved one is refused at dispensing (`require_visit_not_ended`)."""
    undecided = (PrescriptionStatus.PENDING_REVIEW, PrescriptionStatus.AWAITING_COUNTERSIGN)  # REV-05 too
    pending = (await session.execute(select(Prescription).where(
        Prescription.visit_id == ended.visit_id, col(Prescription.status).in_(undecided))
        .with_for_update())).scalars().all()
    now = ctx.now()
    for rx in pending:
        voided = await session.execute(
            update(Prescription).where(col(Prescription.id) == rx.id, col(Prescription.version) == rx.version,
                                       col(Prescription.status) == rx.status)
            .values(status=PrescriptionStatus.VOIDED, voided_at=now, version=rx.version + 1, updated_at=now))
        if voided.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"{rx.number} was decided meanwhile; end the visit again", rule_id="RX-06")
        await append_audit(session, ended.actor, "prescription.voided", subject_type="prescription",
                           subject_id=rx.id, rule_id="RX-06",
                           detail={"number": rx.number, "visit_id": ended.visit_id, "visit_state": ended.state})
        await emit(session, "prescription.voided", subject_type="prescription", subject_id=rx.id,
                   version=rx.version + 1, payload=PrescriptionVoided(
                       prescription_id=str(rx.id), prescription_number=rx.number, visit_id=str(ended.visit_id),
                       visit_state=ended.state, voided_at=now))


async def withdraw_prescription(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                                prescription_id: uuid.UUID, reason: str) -> None:
    """The doctor withdraws their rejected (not revised) or undecided prescription instead of revising it: it is
    voided like one of an ended visit, audited and reported, so nothing of it reaches a patient (RX-06)."""
    rx = await prescription_in_scope(session, principal, prescription_id, now=ctx.now())
    check_withdrawable(rx.status, rx.superseded_by_id is not None, prescriber_user_id=rx.doctor_user_id,
                       user_id=principal.user_id)
    require_practice_session(ctx, principal)  # FACE-02: a writing act, like signing
    await require_clinical_act(session, ctx, principal.user_id, licence_department=rx.department_code)
    visit = await session.get(Visit, rx.visit_id)
    if visit is None:
        raise NotFound("no such prescription")
    now = ctx.now()
    voided = await session.execute(
        update(Prescription).where(col(Prescription.id) == rx.id, col(Prescription.version) == rx.version,
                                   col(Prescription.status) == rx.status,
                                   col(Prescription.superseded_by_id).is_(None))
        .values(status=PrescriptionStatus.VOIDED, voided_at=now, version=rx.version + 1, updated_at=now,
                claimed_until=None))
    if voided.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{rx.number} changed meanwhile; open it again", rule_id="RX-06")
    await append_audit(session, actor, "prescription.withdrawn", subject_type="prescription", subject_id=rx.id,
                       rule_id="RX-06", detail={"number": rx.number, "from": rx.status, "note": reason.strip()},
                       cipher=ctx.cipher)  # the reason may speak of the patient: sealed
    await emit(session, "prescription.voided", subject_type="prescription", subject_id=rx.id,
               version=rx.version + 1, payload=PrescriptionVoided(
                   prescription_id=str(rx.id), prescription_number=rx.number, visit_id=str(rx.visit_id),
                   visit_state=visit.state, voided_at=now, withdrawn=True))
    await session.commit()
