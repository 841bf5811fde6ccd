"""Small pieces the visit services share: department names, state moves, the sealed EMR."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.institution.models import Department
from hospital.visits.intake.reference import tables_for
from hospital.visits.lifecycle import VisitAction, VisitState, next_state
from hospital.visits.models import MedicalRecord, Visit
from hospital.visits.records import OnlineEmr

__all__ = ["department_name", "emr_value", "move", "open_emr", "seal_emr"]

_DONE = {VisitAction.ACCEPT: "accepted", VisitAction.START: "started", VisitAction.COMPLETE: "completed",
         VisitAction.TERMINATE: "terminated", VisitAction.CANCEL: "cancelled"}
async def department_name(session: AsyncSession, ctx: HospitalContext, code: str) -> str:
    """The name the licence gives the department, else the national catalogue's."""
    name = (await session.execute(select(Department.name).where(Department.code == code))).scalar_one_or_none()
    if name:
        return name
    department = tables_for(ctx).departments.get(code)
    return department.name_zh if department else code


async def move(session: AsyncSession, ctx: HospitalContext, actor: Actor, visit: Visit, action: VisitAction, *,
               detail: dict[str, Any] | None = None, rule_id: str | None = None) -> VisitState:
    """Apply one lifecycle move to a visit the caller holds locked, bump its version and audit it.

    `next_state` refuses an illegal move naming the current state (InvalidTransition)."""
    before = visit.state
    target = next_state(visit.state, action)
    visit.state = target.value
    visit.version += 1
    visit.touch()
    await session.flush()
    await append_audit(session, actor, f"visit.{_DONE[action]}", subject_type="visit", subject_id=visit.id,
                       rule_id=rule_id, detail={"from": before, "to": target.value, "version": visit.version,
                                                **(detail or {})})
    return target


def seal_emr(ctx: HospitalContext, visit: Visit, content: dict[str, Any]) -> bytes:
    """The EMR fields as JSON, sealed to their visit (REC-03): a record moved to another visit fails to open."""
    return ctx.cipher.seal(json.dumps(content, ensure_ascii=False, sort_keys=True).encode(),
                           context=f"medical_record:{visit.id}")


def open_emr(ctx: HospitalContext, record: MedicalRecord) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(ctx.cipher.open(record.content_sealed, context=f"medical_record:{record.visit_id}"))
    return content


def emr_value(content: dict[str, Any], record: MedicalRecord | None) -> OnlineEmr:
    """The stored EMR as the REC-01 rule reads it. Until RX-05 puts the doctor's JWS in `signature`, the
    recorded sign-off (who and when) stands for the signature."""
    signature = None
    if record is not None:
        signature = record.signature or (f"signed off by {record.signed_by_user_id} at {record.signed_at.isoformat()}"
                                         if record.signed_at else None)
    visited_at = content.get("visited_at")
    return OnlineEmr(
        visited_at=datetime.fromisoformat(visited_at) if visited_at else None,
        department_code=content.get("department_code", ""), chief_complaint=content.get("chief_complaint", ""),
        present_illness=content.get("present_illness", ""), allergy_history=content.get("allergy_history", ""),
        diagnosis_icd10=content.get("diagnosis_icd10", ""), diagnosis_name=content.get("diagnosis_name", ""),
        treatment_advice=content.get("treatment_advice", ""), doctor_signature=signature,
        examination_findings=content.get("examination_findings", ""), past_history=content.get("past_history", ""))
