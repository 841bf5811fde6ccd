"""Dispensing and delivery (RX-08): an effective prescription is dispensed once, then shipped and delivered.

"Effective" is checked on the signatures, not only on the status column: the doctor's JWS must cover the
stored document and a pharmacist's approving JWS must name its hash, each valid when it was made. The dispense
itself is a conditional UPDATE of the prescription (`dispensed_at IS NULL` and its version), and the dispensing
row is unique per prescription, so two pharmacists dispensing at once produce one dispensing and one 409.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.biometrics.gate import require_practice_session
from hospital.context import HospitalContext
from hospital.contracts import prescriptions as contract
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import Conflict, Forbidden, IntegrityFailure, NotFound
from hospital.core.outbox import emit
from hospital.identity.tokens import Principal
from hospital.prescriptions.dispensing.rules import (
    Fulfilment,
    check_collection,
    check_delivery_address,
    check_fulfilment_choice,
    check_shippable,
    collector_of,
)
from hospital.prescriptions.models import DeliveryChoice, Dispensing, Prescription, PrescriptionReview
from hospital.prescriptions.queries import (
    ADDRESS_CONTEXT,
    delivery_choice_view,
    open_json,
    prescription_for_act,
    prescription_in_scope,
)
from hospital.prescriptions.review.service import require_visit_not_ended, verified_document
from hospital.prescriptions.rules import (
    CourierKind,
    DispensingStatus,
    PrescriptionStatus,
    ReviewDecision,
    check_courier,
    check_dispensable,
    next_delivery_status,
)
from hospital.signing import service as signing
from hospital.signing.ca import ClinicianRole
from hospital.signing.errors import SignatureInvalid
from hospital.staff.service import require_clinical_act

__all__ = ["EVENT_COURIER", "EVENT_STATUS", "choose_fulfilment", "delivery_address", "dispense", "record_collection",
           "update_delivery"]

# The events' words for a dispensing's status and courier (hospital/contracts/prescriptions.py): the same text.
EVENT_STATUS: dict[DispensingStatus, contract.DispensingStatus] = {
    DispensingStatus.DISPENSED: "dispensed", DispensingStatus.SHIPPED: "shipped", DispensingStatus.DELIVERED: "delivered",
    DispensingStatus.COLLECTED: "collected"}
EVENT_COURIER: dict[CourierKind, contract.CourierKind] = {CourierKind.OWN: "own", CourierKind.THIRD_PARTY: "third_party"}


async def _approval_verifies(session: AsyncSession, ctx: HospitalContext, rx: Prescription,
                             review: PrescriptionReview | None) -> bool:
    """True when a pharmacist's valid JWS approves exactly this document (RX-06)."""
    if review is None or review.decision != ReviewDecision.APPROVE:
        return False
    try:
        document = await verified_document(session, ctx, rx)
        token = open_json(ctx, review.review_jws_sealed, "review.jws", review.id)
        verified = await signing.verify_signature(session, ctx, token, at=review.reviewed_at)
    except (SignatureInvalid, IntegrityFailure):
        return False
    signed = verified.payload
    doctor = document.get("doctor")
    doctor_staff_id = doctor.get("staff_id") if isinstance(doctor, dict) else None
    return (signed.get("prescription_sha256") == rx.payload_sha256 and signed.get("decision") == ReviewDecision.APPROVE
            and verified.signer.role == ClinicianRole.PHARMACIST and verified.signer.staff_id != doctor_staff_id)


def _step(status: str, at: datetime, principal: Principal, note: str = "", **extra: Any) -> dict[str, Any]:
    return {"status": status, "at": at.isoformat(), "by_role": principal.role, "note": note, **extra}


async def dispense(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                   prescription_id: uuid.UUID, courier_kind: str, courier_name: str | None) -> Dispensing:
    """The pharmacy dispenses an approved prescription, once (RX-06, RX-08)."""
    if principal.role != "pharmacist":
        raise Forbidden("only a pharmacist dispenses")
    rx = await prescription_for_act(session, principal, prescription_id, now=ctx.now())
    require_practice_session(ctx, principal)
    kind, courier = check_courier(courier_kind, courier_name)
    await require_clinical_act(session, ctx, principal.user_id, licence_department=rx.department_code)
    await require_visit_not_ended(session, rx)  # RX-06: a terminated or cancelled visit's drugs are not sent
    review = (await session.execute(select(PrescriptionReview).where(
        PrescriptionReview.prescription_id == rx.id))).scalar_one_or_none()
    now = ctx.now()
    check_dispensable(rx.status, has_valid_approval=rx.status != PrescriptionStatus.APPROVED or
                      await _approval_verifies(session, ctx, rx, review),
                      already_dispensed=rx.dispensed_at is not None, valid_until=rx.valid_until,
                      today=ctx.local_date(now))
    taken = await session.execute(
        update(Prescription).where(col(Prescription.id) == rx.id, col(Prescription.version) == rx.version,
                                   col(Prescription.status) == PrescriptionStatus.APPROVED,
                                   col(Prescription.dispensed_at).is_(None))
        .values(dispensed_at=now, version=rx.version + 1, updated_at=now))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the prescription was dispensed by someone else meanwhile", rule_id="RX-08")
    dispensing = Dispensing(prescription_id=rx.id, status=DispensingStatus.DISPENSED, courier_kind=kind,
                            courier_name=courier, dispensed_by_user_id=principal.user_id, dispensed_at=now,
                            history=[_step(DispensingStatus.DISPENSED, now, principal)])
    session.add(dispensing)
    await session.flush()
    await append_audit(session, actor, "prescription.dispensed", subject_type="dispensing", subject_id=dispensing.id,
                       rule_id="RX-08", detail={"prescription_id": rx.id, "number": rx.number, "courier": courier})
    await emit(session, "dispensing.dispensed", subject_type="dispensing", subject_id=dispensing.id,
               version=dispensing.version, payload=contract.Dispensed(
                   dispensing_id=str(dispensing.id), prescription_id=str(rx.id), prescription_number=rx.number,
                   status=EVENT_STATUS[DispensingStatus(dispensing.status)], dispensed_at=now,
                   pharmacist_user_id=str(principal.user_id), courier_kind=EVENT_COURIER[kind], courier_name=courier))
    await session.commit()
    return dispensing


async def update_delivery(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                          dispensing_id: uuid.UUID, status: str, *, tracking_number: str | None = None,
                          courier_name: str | None = None, note: str = "") -> Dispensing:
    """Shipped (with the courier's tracking number), then delivered; every step audited and reported."""
    if principal.role != "pharmacist":
        raise Forbidden("only the pharmacy updates a delivery")
    dispensing = await session.get(Dispensing, dispensing_id)
    if dispensing is None:
        raise NotFound("no such dispensing")
    tracking = (tracking_number or "").strip() or dispensing.tracking_number
    target = next_delivery_status(dispensing.status, status, tracking_number=tracking)
    if target is DispensingStatus.SHIPPED:  # RX-08: shipped only where the patient asked, to their address
        choice = await _choice(session, dispensing.prescription_id)
        check_shippable(_fulfilment(choice),
                        has_address=choice is not None and choice.address_sealed is not None)
    now = ctx.now()
    courier = (courier_name or "").strip() or dispensing.courier_name
    step = _step(target, now, principal, note.strip(), tracking_number=tracking)
    moved = await session.execute(
        update(Dispensing).where(col(Dispensing.id) == dispensing.id, col(Dispensing.version) == dispensing.version)
        .values(status=target, tracking_number=tracking, courier_name=courier, history=[*dispensing.history, step],
                version=dispensing.version + 1, updated_at=now,
                **({"shipped_at": now} if target is DispensingStatus.SHIPPED else {"delivered_at": now})))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the delivery was updated by someone else meanwhile; reload it", rule_id="RX-08")
    await session.refresh(dispensing)
    rx = await session.get(Prescription, dispensing.prescription_id)
    assert rx is not None
    await append_audit(session, actor, f"dispensing.{target}", subject_type="dispensing", subject_id=dispensing.id,
                       rule_id="RX-08", detail={"number": rx.number, "tracking_number": tracking})
    await emit(session, "dispensing.delivery_updated", subject_type="dispensing", subject_id=dispensing.id,
               version=dispensing.version, payload=contract.DeliveryUpdated(
                   dispensing_id=str(dispensing.id), prescription_id=str(rx.id), prescription_number=rx.number,
                   status=EVENT_STATUS[target], updated_at=now,
                   courier_kind=EVENT_COURIER[CourierKind(dispensing.courier_kind)], courier_name=courier,
                   tracking_number=tracking, history=msgspec.convert(dispensing.history, list[contract.DeliveryStep])))
    await session.commit()
    return dispensing


async def record_collection(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                            prescription_id: uuid.UUID, collector: str, agent_name: str | None) -> Dispensing:
    """The pharmacist hands a pick-up to the patient or their named agent (RX-08): once, after dispensing; who
    handed it over, to whom and when are on the dispensing's history, audited and reported like a delivery."""
    if principal.role != "pharmacist":
        raise Forbidden("only the pharmacy hands over a prescription")
    rx = await prescription_for_act(session, principal, prescription_id, now=ctx.now())
    dispensing = (await session.execute(select(Dispensing).where(
        Dispensing.prescription_id == rx.id))).scalar_one_or_none()
    choice = await _choice(session, rx.id)
    who, agent = collector_of(collector, agent_name)
    check_collection(_fulfilment(choice),
                     dispensing_status=dispensing.status if dispensing else None, collector=who, agent_name=agent)
    if dispensing is None:  # check_collection refuses it; this line only keeps the type checker sure
        raise NotFound("no dispensing of this prescription")
    now = ctx.now()
    step = _step(DispensingStatus.COLLECTED, now, principal, collector=str(who), agent_name=agent,
                 pharmacist_user_id=str(principal.user_id))
    moved = await session.execute(
        update(Dispensing).where(col(Dispensing.id) == dispensing.id, col(Dispensing.version) == dispensing.version)
        .values(status=DispensingStatus.COLLECTED, collected_at=now, history=[*dispensing.history, step],
                version=dispensing.version + 1, updated_at=now))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the dispensing was updated by someone else meanwhile; reload it", rule_id="RX-08")
    await session.refresh(dispensing)
    await append_audit(session, actor, "dispensing.collected", subject_type="dispensing", subject_id=dispensing.id,
                       rule_id="RX-08", detail={"number": rx.number, "collector": str(who)})
    # The platform's circulation record ends with the hand-over as with a delivery (its finish time).
    await emit(session, "dispensing.delivery_updated", subject_type="dispensing", subject_id=dispensing.id,
               version=dispensing.version, payload=contract.DeliveryUpdated(
                   dispensing_id=str(dispensing.id), prescription_id=str(rx.id), prescription_number=rx.number,
                   status=EVENT_STATUS[DispensingStatus.COLLECTED], updated_at=now,
                   courier_kind=EVENT_COURIER[CourierKind(dispensing.courier_kind)],
                   courier_name=dispensing.courier_name, tracking_number=dispensing.tracking_number,
                   history=_event_steps(dispensing.history)))
    await session.commit()
    return dispensing


def _event_steps(history: list[dict[str, Any]]) -> list[contract.DeliveryStep]:
    """The steps as the event carries them: the contract's fields; who collected (a third person's name) stays
    in the hospital (SEC-01)."""
    fields = set(contract.DeliveryStep.__struct_fields__)
    return msgspec.convert([{k: v for k, v in step.items() if k in fields} for step in history],
                           list[contract.DeliveryStep])


async def _choice(session: AsyncSession, prescription_id: uuid.UUID) -> DeliveryChoice | None:
    return (await session.execute(select(DeliveryChoice).where(
        DeliveryChoice.prescription_id == prescription_id))).scalar_one_or_none()


def _fulfilment(choice: DeliveryChoice | None) -> str:
    """How the drugs reach the patient: their choice, pick-up until they make one (RX-08)."""
    return choice.method if choice else Fulfilment.PICKUP


async def choose_fulfilment(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                            prescription_id: uuid.UUID, method: str,
                            address: dict[str, str | None] | None) -> dict[str, Any]:
    """The patient chooses pick-up or delivery to an address for their own prescription, until it is dispensed
    (RX-08). The prescription row is locked so that a dispensing at the same moment sees one choice or the other."""
    if principal.role != "patient":
        raise Forbidden("only the patient chooses how they receive their drugs")
    rx = await prescription_in_scope(session, principal, prescription_id, lock=True, now=ctx.now())
    chosen = check_fulfilment_choice(method, already_dispensed=rx.dispensed_at is not None, status=rx.status)
    clean = check_delivery_address(address or {}) if chosen is Fulfilment.DELIVERY else None
    now = ctx.now()
    choice = await _choice(session, rx.id)
    if choice is None:
        choice = DeliveryChoice(prescription_id=rx.id, chosen_at=now)
        session.add(choice)
    else:
        choice.version += 1
        choice.touch()
    choice.method, choice.chosen_at = chosen, now
    choice.address_sealed = (ctx.cipher.seal(json.dumps(clean, ensure_ascii=False).encode(),
                                             context=f"{ADDRESS_CONTEXT}:{choice.id}") if clean else None)
    await session.flush()
    await append_audit(session, actor, "prescription.fulfilment_chosen", subject_type="prescription",
                       subject_id=rx.id, rule_id="RX-08", detail={"method": str(chosen), "number": rx.number})
    await session.commit()
    return delivery_choice_view(ctx, choice, full=True)


async def delivery_address(session: AsyncSession, ctx: HospitalContext, actor: Actor, principal: Principal,
                           prescription_id: uuid.UUID) -> dict[str, Any]:
    """The choice with the full address: for the patient themself and for the pharmacist who ships it; the read
    is audited (SEC-01)."""
    if principal.role == "pharmacist":
        rx = await prescription_for_act(session, principal, prescription_id, now=ctx.now())
    elif principal.role == "patient":
        rx = await prescription_in_scope(session, principal, prescription_id, now=ctx.now())
    else:
        raise Forbidden("only the patient and the pharmacy read a delivery address")
    choice = await _choice(session, rx.id)
    view = delivery_choice_view(ctx, choice, full=True)
    await append_audit(session, actor, "prescription.delivery_address_read", subject_type="prescription",
                       subject_id=rx.id, rule_id="SEC-01", detail={"number": rx.number, "method": view["method"]})
    await session.commit()
    return view
