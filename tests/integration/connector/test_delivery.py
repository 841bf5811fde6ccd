"""The dispatcher delivers the outbox to the simulated platform: every reportable event once, in order per
subject, reference data before the records that rely on it, unmapped events parked, T+1 batches and the
daily dispute check-in (SUP-02, SUP-04)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from connectors.supervision.catalogue import file_catalogue
from connectors.supervision.mapping import Mapped, registry
from connectors.supervision.settings import Mode
from hospital.config import Settings
from hospital.contracts.institution import LicenceRecorded
from hospital.contracts.quality import AdverseEventReported, ComplaintFiled
from hospital.contracts.staff import StaffRecord
from hospital.contracts.visits import Diagnosis, VisitAccepted
from tests import payloads
from tests.integration.connector.conftest import (
    DispatcherFactory,
    Sim,
    add_department,
    deliver_all,
    demo_people,
    emit_all,
    fresh_outbox,
    status_of,
)

pytestmark = pytest.mark.requirement("SUP-02", "SUP-04")

STAFF = "uploadDoctorIndicators"
LICENCE = LicenceRecorded(licence_number="PDY0002", institution_name="示范市第一人民医院",
                          internet_hospital_name="示范互联网医院", issuer="示范市卫生健康委员会",
                          valid_from=date(2025, 1, 1), valid_until=date(2030, 12, 31), service_modes=["互联网诊疗"],
                          address="示范路1号", legal_representative="赵院长")


def staff_payload(staff_id: str, title: str) -> StaffRecord:
    return payloads.staff_record(staff_id, name="周医生", id_number="110105199009093412", title=title)


async def test_the_demo_hospital_reaches_the_platform_complete_and_without_warnings(
    demo: None, settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    dispatcher = await dispatchers()
    async with dispatcher.session() as session:
        assert await file_catalogue(session)
    await deliver_all(dispatcher)
    methods = [r["method"] for r in await sim.records()]
    assert methods.count("uploadOrganIndicators") == 1 and methods.count(STAFF) == 2
    assert methods.count("uploadDrugCatalogue") == 63 and await sim.warnings() == []
    rows = await fresh_outbox(settings)
    assert {r.status for r in rows if r.event_type == "institution.department"} == {"skipped"}
    assert all(r.status == "sent" and r.response["method"] for r in rows if r.event_type != "institution.department")
    status = await status_of(dispatcher)
    assert status.counts["pending"] == status.counts["dead"] == 0 and status.lag_s is None


async def test_versions_of_one_subject_reach_the_platform_in_commit_order(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    await add_department(settings, "03", "内科")
    subjects = [str(uuid.uuid4()) for _ in range(4)]
    base = datetime.now(UTC) - timedelta(minutes=5)
    events = [("staff.record", "staff", s, staff_payload(s, f"title {v}")) for v in range(3) for s in subjects]
    await emit_all(settings, events, created_at=[base + timedelta(seconds=i) for i in range(len(events))])
    await deliver_all(await dispatchers(batch_size=3, concurrency=3))
    for subject in subjects:
        arrived = [r["record"]["doctorTile"] for r in await sim.records(STAFF) if r["businessId"] == subject]
        assert arrived == ["title 0", "title 1", "title 2"]


async def test_the_catalogue_and_revisit_go_before_prescriptions_and_a_record_before_its_rating(
    demo: None, settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    p = await demo_people(settings)
    visit, prescription, dispensing = (str(uuid.uuid4()) for _ in range(3))
    now = datetime.now(UTC)
    dispatcher = await dispatchers()
    async with dispatcher.session() as session:
        await file_catalogue(session)
    # Committed out of the order the platform needs them: the prescription signed, approved and dispensed, the visit
    # rated, and only then the consult's start (acceptance) and the visit's end (its revisit record).
    revisit = payloads.revisit_record(visit, p.patient_id, p.doctor_user_id, now)
    accepted = VisitAccepted(**msgspec.structs.asdict(revisit), practice_session_id="ps-1", face_verified_at=now)
    await emit_all(settings, [
        ("prescription.submitted", "prescription", prescription,
         payloads.prescription_submitted(prescription, visit, p.patient_id, p.doctor_staff_id, now)),
        ("prescription.approved", "prescription", prescription,
         payloads.reviewed(prescription, p.pharmacist_staff_id, now)),
        ("dispensing.dispensed", "dispensing", dispensing,
         payloads.dispensed(dispensing, prescription, p.pharmacist_user_id, now)),
        ("rating.submitted", "visit", visit, payloads.rating(str(uuid.uuid4()), visit, p.doctor_user_id, now)),
        ("visit.accepted", "visit", visit, accepted),
        ("visit.completed", "visit", visit, revisit),
    ])
    await sim.fault(kind="http500", count=2)  # the catalogue's first attempts fail: everything after it waits
    await deliver_all(dispatcher)
    order = [r["method"] for r in await sim.requests() if r["msgCode"] == 200]
    first = {m: order.index(m) for m in reversed(order)}
    assert first["uploadDrugCatalogue"] < first["uploadRecipeIndicators"]
    assert first["uploadConsultIndicators"] < first["uploadRecipeIndicators"] < first[
        "uploadRecipeAuditIndicators"] < first["uploadRecipeCirculationIndicators"]
    assert first["uploadReferralIndicators"] < first["uploadBusinessInfoAfter"]
    checks = {w["check"] for w in await sim.warnings()}
    assert not checks & {"drug_not_in_catalogue", "no_revisit", "unfiled_clinician", "dispensed_before_approval",
                         "prescription_before_visit"}


async def test_an_event_without_a_mapper_is_parked_shown_and_delivered_once_a_mapper_is_added(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    # A connector older than the hospital: it has no mapper for the licence yet.
    mapper = registry().pop("institution.licence")
    try:
        await emit_all(settings, [("institution.licence", "institution", "PDY0002", LICENCE)])
        dispatcher = await dispatchers()
        await deliver_all(dispatcher)
        status = await status_of(dispatcher)
        assert status.counts["parked"] == 1 and status.parked_types == {"institution.licence": 1}
        assert await sim.records("uploadOrganIndicators") == []
    finally:
        registry()["institution.licence"] = mapper  # the upgrade
    await deliver_all(await dispatchers())  # a new dispatcher process routes parked events again
    assert [r["record"]["internetPermit"] for r in await sim.records("uploadOrganIndicators")] == ["PDY0002"]
    assert (await status_of(dispatcher)).counts["parked"] == 0


async def test_an_event_type_the_timing_table_does_not_list_under_a_waited_for_method_is_not_sent_as_it(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    # Records waiting for uploadOrganIndicators look only at the unrouted events of the types data/timing.csv lists
    # for it: a mapper giving it from another type would overtake them unseen, so its event is dead-lettered.
    mappers = registry()
    complaint = mappers["complaint.filed"]
    mappers["complaint.filed"] = lambda event, ctx: Mapped("uploadOrganIndicators", [{"organID": "x"}])
    try:
        subject = str(uuid.uuid4())
        await emit_all(settings, [("complaint.filed", "complaint", subject, ComplaintFiled(
            complaint_id=subject, category="service", description="回复不及时", filed_at=datetime.now(UTC)))])
        await deliver_all(await dispatchers())
    finally:
        mappers["complaint.filed"] = complaint
    (row,) = [r for r in await fresh_outbox(settings) if r.event_type == "complaint.filed"]
    assert row.status == "dead" and "routed_from" in (row.last_error or "")
    assert await sim.records("uploadOrganIndicators") == []


async def test_in_t_plus_1_business_records_wait_for_the_nightly_batch_once_per_business_id(
    demo: None, settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    p = await demo_people(settings)
    visit, now = str(uuid.uuid4()), datetime.now(UTC)
    completed = payloads.revisit_record(visit, p.patient_id, p.doctor_user_id, now)
    corrected = payloads.revisit_record(visit, p.patient_id, p.doctor_user_id, now, main_diagnosis_code="I11",
                                        present_diagnosis=Diagnosis(icd10_code="I11", name="高血压性心脏病"))
    await emit_all(settings, [("visit.completed", "visit", visit, completed),
                              ("visit.completed", "visit", visit, corrected)])
    clock = Clock(now)
    today = await dispatchers(mode=Mode.T_PLUS_1, clock=clock)
    await deliver_all(today)
    assert {r["method"] for r in await sim.records()} >= {"uploadOrganIndicators", STAFF}
    assert await sim.records("uploadReferralIndicators") == []  # held for tonight's batch
    clock.now = now + timedelta(days=1, hours=1)  # past the batch time (00:30 local) of the next day
    await deliver_all(today)
    held = await sim.records("uploadReferralIndicators")
    assert [(r["businessId"], r["record"]["mainDiagnoseCode"]) for r in held] == [(visit, "I11")]
    assert [r.status for r in await fresh_outbox(settings) if r.event_type == "visit.completed"] == [
        "superseded", "sent"]


async def test_a_day_without_disputes_is_checked_in_with_an_empty_push_and_a_day_with_one_is_not(
    settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    now = datetime.now(UTC).replace(hour=4)  # noon in Shanghai: clear of the batch time and of midnight
    yesterday = now - timedelta(days=1)
    await emit_all(settings, [("adverse_event.reported", "adverse_event", "a-1", AdverseEventReported(
        adverse_event_id="a-1", kind="drug", severity="mild", occurred_on=yesterday.date(),
        description="服药后轻度头晕", drug_code="C08CA01-tab-5mg", reporter_role="doctor"))], created_at=[yesterday])
    clock = Clock(now)
    await deliver_all(await dispatchers(clock=clock))
    clock.now = now + timedelta(days=1)
    await deliver_all(await dispatchers(clock=clock))
    pushes = [r["records"] for r in await sim.requests() if r["method"] == "pushMedicalDispute"]
    assert pushes == [1, 0]  # yesterday's adverse event, then today's empty check-in
    check_ins = [r for r in await fresh_outbox(settings) if r.event_type == "supervision.daily_disputes"]
    assert [(r.payload["dispute_events"], r.status) for r in check_ins] == [(1, "skipped"), (0, "sent")]


class Clock:
    """The dispatcher's clock: real time moved to `now` when set (time goes on from there)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    @property
    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @now.setter
    def now(self, value: datetime) -> None:
        self._offset = value - datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now
