"""Small pieces the visit services share: department names, state moves."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.core.audit import Actor, append_audit
from hospital.institution.models import Department
from hospital.visits.intake.reference import tables_for
from hospital.visits.lifecycle import VisitAction, VisitState, next_state
from hospital.visits.models import Visit

__all__ = ["department_name", "move"]

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
