"""One Platform object per protocol (SUP-02): the settings choose it once, and it alone knows its mappers, its
timing, its business IDs, its transport and what its answers mean."""

from __future__ import annotations

import httpx
import pytest

from connectors.supervision.fhir.platform import FhirPlatform
from connectors.supervision.gateway_platform import CHECKED_BEFORE_SENDING, GatewayPlatform
from connectors.supervision.mapping import Mapped, NotReported
from connectors.supervision.platform import Platform, open_platform
from connectors.supervision.settings import load_connector_settings
from hospital.contracts import EVENT_PAYLOADS
from tests import payloads
from tests.unit.supervision.test_connector_settings import GATEWAY
from tests.unit.supervision.test_mapping import AT, CTX, DOCTOR, PATIENT, VISIT, event

pytestmark = pytest.mark.requirement("SUP-02")


async def test_the_settings_choose_the_platform_once() -> None:
    async with httpx.AsyncClient() as http:
        gateway = open_platform(load_connector_settings({**GATEWAY, "HOSPITAL_SUPERVISION_BATCH_RECORDS": "20"}), http)
        fhir = open_platform(load_connector_settings({"HOSPITAL_SUPERVISION_URL": "http://fhir/r4",
                                                      "HOSPITAL_SUPERVISION_PROTOCOL": "fhir"}), http)
    assert isinstance(gateway, GatewayPlatform) and (gateway.name, gateway.max_records) == ("gateway", 20)
    assert isinstance(fhir, FhirPlatform) and (fhir.name, fhir.max_records) == ("fhir", 1)
    platforms: list[Platform] = [gateway, fhir]
    for platform in platforms:  # every contracted event type is decided on each
        assert set(platform.registry()) == set(EVENT_PAYLOADS)


async def test_each_platform_maps_times_and_keys_a_record_its_own_way() -> None:
    async with httpx.AsyncClient() as http:
        gateway = open_platform(load_connector_settings(GATEWAY), http)
        fhir = open_platform(load_connector_settings({"HOSPITAL_SUPERVISION_URL": "http://fhir/r4",
                                                      "HOSPITAL_SUPERVISION_PROTOCOL": "fhir"}), http)
    completed = event("visit.completed", payloads.revisit_record(VISIT, PATIENT.patient_id, DOCTOR.user_id, AT))
    revisit, resources = gateway.map(completed, CTX), fhir.map(completed, CTX)
    assert isinstance(revisit, Mapped) and revisit.method == "uploadReferralIndicators"
    assert isinstance(resources, Mapped) and {r["resourceType"] for r in resources.records} >= {"Encounter"}
    # The gateway keeps a revisit record by its bussID and batches it T+1 behind the clinicians it names; a FHIR
    # server takes resources by id, at once.
    assert gateway.business_key(revisit) == VISIT
    assert gateway.timing(revisit.method).t_plus_1 and "uploadDoctorIndicators" in gateway.timing(revisit.method).after
    assert fhir.business_key(resources) is None and not fhir.timing(resources.method).t_plus_1
    assert fhir.timing(resources.method).after == ()
    rating = event("rating.submitted", payloads.rating("r-1", VISIT, DOCTOR.user_id, AT))
    assert isinstance(gateway.map(rating, CTX), Mapped) and isinstance(fhir.map(rating, CTX), NotReported)


async def test_the_gateway_checks_required_fields_before_sending_and_fhir_leaves_it_to_fhir_resources() -> None:
    async with httpx.AsyncClient() as http:
        gateway = open_platform(load_connector_settings(GATEWAY), http)
        fhir = open_platform(load_connector_settings({"HOSPITAL_SUPERVISION_URL": "http://fhir/r4",
                                                      "HOSPITAL_SUPERVISION_PROTOCOL": "fhir"}), http)
    staff = gateway.map(event("staff.record", payloads.staff_record(DOCTOR.staff_id, title="")), CTX)
    assert isinstance(staff, Mapped)
    refused = gateway.check(staff)
    assert refused is not None and refused.fields == ("doctorTile",) and refused.raw == CHECKED_BEFORE_SENDING
    resources = fhir.map(event("staff.record", payloads.staff_record(DOCTOR.staff_id, title="")), CTX)
    assert isinstance(resources, Mapped) and fhir.check(resources) is None
