"""Schedules and departments reach the platform from the real events (issue 20, SUP-02).

A schedule published and then withdrawn (停诊, REV-06) is the doctor's online business opened and then closed
for that period (openDoctorBusiness 1, then 0 with the period), and the booking it cancelled is the appointment
cancelled. The SDK has no department record: where a platform asks for them (HOSPITAL_SUPERVISION_DEPARTMENT_UPLOADS)
a department opened and withdrawn goes by our own method uploadDepartmentInfo (non-standard); otherwise the event
is skipped with its reason. The simulator's checks raise nothing on this honest day.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from hospital.config import Settings
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.connector.conftest import DispatcherFactory, Sim, add_department, deliver_all, fresh_outbox
from tests.integration.visits.journey import book, demo_prior_id, doctor_in_session, publish

pytestmark = pytest.mark.requirement("SUP-02")


async def a_withdrawn_schedule_and_department(client: AsyncTestClient[Any], settings: Settings, clock: FakeClock
                                              ) -> tuple[str, str]:
    """A schedule published, booked and withdrawn; a department opened and withdrawn. (schedule id, visit id)
    The clock moves between the steps as a day's does: the platform keeps one copy of a doctor's business record
    per applyDate and status, so the demo's schedule and this one, published in the same second, would be one."""
    doctor, patient = await doctor_in_session(client), await login_as(client, "patient")
    clock.advance(minutes=5)
    published = await publish(client, doctor, hour=15, days=4)
    assert published.status_code == 201, published.text
    schedule_id = published.json()["schedule_id"]
    booked = await book(client, patient, schedule_id, await demo_prior_id(client, patient))
    assert booked.status_code == 201, booked.text
    clock.advance(minutes=30)
    withdrawn = await client.post(f"/api/schedules/{schedule_id}/withdrawal", headers=doctor,
                                  json={"reason": "医生参加紧急会诊"})
    assert withdrawn.status_code == 200, withdrawn.text
    await add_department(settings, "07.01", "小儿呼吸专业")
    admin = await login_as(client, "admin")
    closed = await client.put("/api/institution/departments/07.01", headers=admin,
                              json={"name": "小儿呼吸专业", "approved": False})
    assert closed.status_code == 200, closed.text
    return schedule_id, booked.json()["visit_id"]


async def test_a_withdrawn_schedule_closes_the_doctors_business_for_its_period_and_departments_go_where_asked(
    client: AsyncTestClient[Any], settings: Settings, clock: FakeClock, demo: None, sim: Sim,
    dispatchers: DispatcherFactory
) -> None:
    schedule_id, visit_id = await a_withdrawn_schedule_and_department(client, settings, clock)
    events = [e for e in await fresh_outbox(settings) if e.subject_id == schedule_id]
    assert [e.event_type for e in events] == ["schedule.published", "schedule.withdrawn"]
    assert "医生参加紧急会诊" not in str(events[-1].payload)  # the reason stays in the audit trail

    await deliver_all(await dispatchers(department_uploads=True))
    business = [r["record"] for r in await sim.records("openDoctorBusiness")]
    period = [r for r in business if r.get("startTime") and r["startTime"][11:16] == "15:00"]
    assert [r["businessStatus"] for r in period] == ["1", "0"], business
    assert period[0]["endTime"] == period[1]["endTime"] and period[1]["applyDate"] >= period[0]["applyDate"]
    appointments = [r["record"] for r in await sim.records("uploadAppointRecord") if r["record"]["bussID"] == visit_id]
    assert [r["appointStatus"] for r in appointments] == ["1", "0"]
    departments = [r["record"] for r in await sim.records("uploadDepartmentInfo")
                   if r["record"]["deptCode"] == "07.01"]
    assert [r["deptStatus"] for r in departments] == ["1", "0"]
    assert await sim.warnings() == []


async def test_without_the_option_departments_are_skipped_with_the_reason(
    client: AsyncTestClient[Any], settings: Settings, clock: FakeClock, demo: None, sim: Sim,
    dispatchers: DispatcherFactory
) -> None:
    await a_withdrawn_schedule_and_department(client, settings, clock)
    await deliver_all(await dispatchers())
    assert await sim.records("uploadDepartmentInfo") == []
    skipped = [e for e in await fresh_outbox(settings) if e.event_type == "institution.department"]
    assert skipped and {e.status for e in skipped} == {"skipped"}
    assert all("non-standard" in (e.last_error or "") for e in skipped)
    assert [r["record"]["businessStatus"] for r in await sim.records("openDoctorBusiness")][-1] == "0"
