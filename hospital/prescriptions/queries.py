"""Reading prescriptions, scoped to the caller (SEC-01), and the sealed-field helpers every sub-area's service uses.

A patient sees their own prescriptions, a doctor those they wrote; a pharmacist the queues (pending review;
approved and not yet dispensed) and what they reviewed or dispensed themselves, never the rest (RX-07 forbids
统方, the collection of prescriptions for commercial ends); anyone else, and any id out of scope, gets 404. The
patient's view leaves out the rule findings, the review's reasons and the signatures: those are for the
clinicians.

Every read of prescriptions is audited (SEC-01): one entry per request naming the prescriptions it returned
(`prescription.read` for one, `prescription.list_read` for a list or a queue). A read is its own use case,
so these functions commit that entry, after the views are built.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.context import HospitalContext
from hospital.contracts import prescriptions as contract
from hospital.contracts.prescription_views import PrescriptionView
from hospital.core.audit import Actor, append_audit
from hospital.core.errors import NotFound
from hospital.core.messages import rule_text
from hospital.core.rule_registry import Finding, registered
from hospital.identity.tokens import Principal
from hospital.prescriptions.models import DeliveryChoice, Dispensing, Prescription, PrescriptionReview
from hospital.prescriptions.rules import mask_address
from hospital.prescriptions.safety.models import PatientSafetyContext
from hospital.prescriptions.safety.service import context_view

__all__ = ["ADDRESS_CONTEXT", "audit_read", "delivery_choice_view", "dispensing_view",
           "finding_parts", "findings_json", "get_prescription", "list_prescriptions",
           "open_json", "open_to", "prescription_for_act", "prescription_in_scope", "prescription_view", "prescription_views",
           "scoped_query", "seal_json"]

CLINICAL_ROLES = ("doctor", "pharmacist")


def seal_json(ctx: HospitalContext, value: Any, field: str, row_id: uuid.UUID) -> bytes:
    """Seal a JSON value bound to its column and row, so it opens nowhere else (REC-03)."""
    return ctx.cipher.seal(json.dumps(value, ensure_ascii=False).encode(), context=f"{field}:{row_id}")


def open_json(ctx: HospitalContext, sealed: bytes, field: str, row_id: uuid.UUID) -> Any:
    return json.loads(ctx.cipher.open(sealed, context=f"{field}:{row_id}"))


def findings_json(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as the pharmacist, the doctor and the supervision platform all see them; `title` is the finding
    rule's own reason in both languages, so a Chinese page shows no English sentence (issue 14), and `subject`
    what it is about (the drugs it names), so two findings of one rule read differently there."""
    return [{"rule_id": f.rule_id, "severity": str(f.severity), "category": f.category, "message": f.message,
             **({"title": _titles(f.source)} if f.source and _titles(f.source) else {}),
             **({"subject": subject} if (subject := finding_subject(f.message)) else {}),
             **({"detail_zh": f.detail_zh} if f.detail_zh else {})} for f in findings]


# How a finding names a drug: its label (`Drug.label`: "苯磺酸氨氯地平片 (amlodipine 5 mg, C08CA01-tab-5mg)"), or
# the code of one not in the formulary ("Drug code 'X01' is not in the hospital formulary").
_DRUG_LABEL = re.compile(r"(\S+) \([^()]*?, ([A-Za-z0-9][\w.-]*)\)")
_UNKNOWN_CODE = re.compile(r"Drug code '([^']+)'")


def finding_subject(message: str) -> str:
    """The drugs a finding's message names, in Chinese and in order, once each ("" when it names none)."""
    names = [m.group(1) for m in _DRUG_LABEL.finditer(message)] + _UNKNOWN_CODE.findall(message)
    return "、".join(dict.fromkeys(names))


def _titles(qualname: str) -> dict[str, str] | None:
    found = registered(qualname)
    zh = rule_text(qualname, found.title, "zh-CN") if found else None
    return {"zh": zh.title, "en": found.title} if found and zh else None


def finding_parts(findings: Sequence[Mapping[str, Any]]) -> list[contract.Finding]:
    """Findings as `findings_json` writes them (and the prescription keeps them), as the outbox events carry them
    (the event carries the contract's fields; the titles are the pages')."""
    fields = set(contract.Finding.__struct_fields__)
    return msgspec.convert([{k: v for k, v in f.items() if k in fields} for f in findings], list[contract.Finding])


def open_to(principal: Principal, now: datetime) -> Any:
    """The condition "not held by another pharmacist's live claim" (RX-06: claimed one at a time; a claim that
    lapsed at `now` holds nothing)."""
    return or_(col(Prescription.claimed_by_user_id).is_(None), col(Prescription.claimed_by_user_id) == principal.user_id,
               col(Prescription.claimed_until).is_(None), col(Prescription.claimed_until) <= now)


def scoped_query(principal: Principal, now: datetime) -> Any:
    """The query of the prescriptions `principal` may see at `now` (module docstring), or None when they may see
    none. A pending prescription another pharmacist has claimed is out of scope until the claim lapses."""
    query = select(Prescription)
    if principal.role == "patient":
        return query.where(Prescription.patient_user_id == principal.user_id)
    if principal.role == "doctor":
        return query.where(Prescription.doctor_user_id == principal.user_id)
    if principal.role == "pharmacist":
        reviewed = select(PrescriptionReview.prescription_id).where(
            PrescriptionReview.pharmacist_user_id == principal.user_id)
        dispensed = select(Dispensing.prescription_id).where(Dispensing.dispensed_by_user_id == principal.user_id)
        return query.where(or_(
            (col(Prescription.status) == "pending_review") & open_to(principal, now),  # the review queue
            (col(Prescription.status) == "approved") & col(Prescription.dispensed_at).is_(None),  # dispensing queue
            col(Prescription.id).in_(reviewed), col(Prescription.id).in_(dispensed)))
    return None


async def prescription_in_scope(session: AsyncSession, principal: Principal, prescription_id: uuid.UUID,
                                *, now: datetime, lock: bool = False) -> Prescription:
    query = scoped_query(principal, now)
    if query is None:
        raise NotFound("no such prescription")
    query = query.where(Prescription.id == prescription_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found: Prescription | None = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound("no such prescription")
    return found


async def prescription_for_act(session: AsyncSession, principal: Principal, prescription_id: uuid.UUID,
                               *, now: datetime) -> Prescription:
    """The prescription a pharmacist acts on (review, dispense): any id, so that one decided or dispensed by
    someone else meanwhile is refused with its state (409), not hidden; the act returns no content of it.
    Anyone else acts only within their read scope."""
    if principal.role != "pharmacist":
        return await prescription_in_scope(session, principal, prescription_id, now=now)
    found = await session.get(Prescription, prescription_id)
    if found is None:
        raise NotFound("no such prescription")
    return found


async def _review_and_dispensing(session: AsyncSession, prescription_ids: Sequence[uuid.UUID]
                                 ) -> tuple[dict[uuid.UUID, PrescriptionReview], dict[uuid.UUID, Dispensing]]:
    if not prescription_ids:
        return {}, {}
    reviews = (await session.execute(select(PrescriptionReview).where(
        col(PrescriptionReview.prescription_id).in_(prescription_ids)))).scalars().all()
    dispensings = (await session.execute(select(Dispensing).where(
        col(Dispensing.prescription_id).in_(prescription_ids)))).scalars().all()
    return {r.prescription_id: r for r in reviews}, {d.prescription_id: d for d in dispensings}


ADDRESS_CONTEXT = "delivery_choice.address"


def delivery_choice_view(ctx: HospitalContext, choice: DeliveryChoice | None, *, full: bool) -> dict[str, Any]:
    """Pick-up (no choice made, or chosen) or delivery with its address: masked where a list shows it, in full
    to the patient and to the pharmacist shipping it (SEC-01, RX-08)."""
    if choice is None:
        return {"method": "pickup", "address": None, "chosen_at": None}
    address = (json.loads(ctx.cipher.open(choice.address_sealed, context=f"{ADDRESS_CONTEXT}:{choice.id}"))
               if choice.address_sealed is not None else None)
    return {"method": choice.method, "chosen_at": choice.chosen_at.isoformat(), "version": choice.version,
            "address": address if full or address is None else mask_address(address)}


def dispensing_view(d: Dispensing) -> dict[str, Any]:
    return {"dispensing_id": str(d.id), "prescription_id": str(d.prescription_id), "status": d.status,
            "courier_kind": d.courier_kind, "courier_name": d.courier_name, "tracking_number": d.tracking_number,
            "dispensed_at": d.dispensed_at.isoformat(), "shipped_at": d.shipped_at.isoformat() if d.shipped_at else None,
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "collected_at": d.collected_at.isoformat() if d.collected_at else None, "history": d.history,
            "version": d.version}


def prescription_view(ctx: HospitalContext, principal: Principal, rx: Prescription,
                      review: PrescriptionReview | None, dispensing: Dispensing | None,
                      safety: PatientSafetyContext | None = None,
                      choice: DeliveryChoice | None = None) -> dict[str, Any]:
    """One prescription as the caller may see it (see the module docstring)."""
    clinician = principal.role in CLINICAL_ROLES
    view: dict[str, Any] = {
        "prescription_id": str(rx.id), "prescription_number": rx.number, "revision": rx.revision,
        "supersedes_id": str(rx.supersedes_id) if rx.supersedes_id else None,
        "superseded_by_id": str(rx.superseded_by_id) if rx.superseded_by_id else None,
        "visit_id": str(rx.visit_id), "status": rx.status, "issued_at": rx.issued_at.isoformat(),
        "valid_until": rx.valid_until.isoformat(), "total_cny": rx.total_cny, "version": rx.version,
        "document": open_json(ctx, rx.payload_sealed, "prescription.payload", rx.id),
        "review": None, "dispensing": dispensing_view(dispensing) if dispensing else None,
        "fulfilment": delivery_choice_view(ctx, choice, full=False),
    }
    if review is not None:
        view["review"] = {"decision": review.decision, "reviewed_at": review.reviewed_at.isoformat()}
        if clinician:
            view["review"]["reasons"] = open_json(ctx, review.reasons_sealed, "review.reasons", review.id)
            view["review"]["review_jws"] = open_json(ctx, review.review_jws_sealed, "review.jws", review.id)
            view["review"]["acknowledgements"] = review.acknowledgements
            view["review"]["reason_codes"] = review.reason_codes
            view["review"]["double_checks"] = review.double_checks
    if clinician:
        view["payload_sha256"] = rx.payload_sha256
        view["findings"] = open_json(ctx, rx.findings_sealed, "prescription.findings", rx.id)
        view["doctor_jws"] = open_json(ctx, rx.doctor_jws_sealed, "prescription.doctor_jws", rx.id)
        view["safety_context"] = context_view(ctx, safety)  # the version the rules read at signing (RX-04)
        view["origin"] = rx.origin
    if principal.role == "pharmacist" and rx.status == "pending_review":
        live = rx.claimed_until is not None and rx.claimed_until > ctx.now()
        view["claim"] = {"claimed_by_me": live and rx.claimed_by_user_id == principal.user_id,
                         "claimed_until": rx.claimed_until.isoformat() if live and rx.claimed_until else None}
    return view


async def prescription_views(session: AsyncSession, ctx: HospitalContext, principal: Principal,
                             found: Sequence[Prescription]) -> list[PrescriptionView]:
    """`found` as `principal` may see them, each with its review and dispensing, as the HTTP answer's contract."""
    reviews, dispensings = await _review_and_dispensing(session, [rx.id for rx in found])
    wanted = [rx.safety_context_id for rx in found if rx.safety_context_id is not None]
    rows = (await session.execute(select(PatientSafetyContext).where(
        col(PatientSafetyContext.id).in_(wanted)))).scalars().all() if wanted else []
    contexts = {c.id: c for c in rows}
    choices = {c.prescription_id: c for c in (await session.execute(select(DeliveryChoice).where(
        col(DeliveryChoice.prescription_id).in_([rx.id for rx in found])))).scalars().all()} if found else {}
    return msgspec.convert([prescription_view(ctx, principal, rx, reviews.get(rx.id), dispensings.get(rx.id),
                                              contexts.get(rx.safety_context_id) if rx.safety_context_id else None,
                                              choices.get(rx.id)) for rx in found], list[PrescriptionView])


async def audit_read(session: AsyncSession, actor: Actor, principal: Principal, found: Sequence[Prescription],
                     *, what: str) -> None:
    """One audit entry naming every prescription a read returned, committed (nothing returned, nothing read)."""
    if not found:
        return
    ids = [str(rx.id) for rx in found]
    one = what == "one"
    await append_audit(session, actor, "prescription.read" if one else "prescription.list_read",
                       subject_type="prescription" if one else "prescription_list",
                       subject_id=ids[0] if one else principal.user_id, rule_id="SEC-01",
                       detail={"read": what, "prescription_ids": ids, "count": len(ids)})
    await session.commit()


async def get_prescription(session: AsyncSession, ctx: HospitalContext, principal: Principal,
                           prescription_id: uuid.UUID, *, actor: Actor) -> PrescriptionView:
    rx = await prescription_in_scope(session, principal, prescription_id, now=ctx.now())
    view = (await prescription_views(session, ctx, principal, [rx]))[0]
    await audit_read(session, actor, principal, [rx], what="one")
    return view


async def list_prescriptions(session: AsyncSession, ctx: HospitalContext, principal: Principal,
                             visit_id: uuid.UUID | None = None, *, actor: Actor) -> list[PrescriptionView]:
    """The caller's prescriptions (newest first), optionally of one visit."""
    query = scoped_query(principal, ctx.now())
    if query is None:
        return []
    if visit_id is not None:
        query = query.where(Prescription.visit_id == visit_id)
    found = (await session.execute(query.order_by(col(Prescription.issued_at).desc()))).scalars().all()
    views = await prescription_views(session, ctx, principal, found)
    await audit_read(session, actor, principal, found, what="visit" if visit_id else "mine")
    return views
