"""A revoked signing device reaches the supervision platform (RX-05, STAFF-04, issue 19): the revocation writes
`signing.device_revoked` to the outbox in its own transaction, and the connector files it through the simulator
as a new version of the clinician's uploadDoctorIndicators record carrying the certificate's state (the SDK has
no certificate method; docs/connector.md)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from hospital.config import Settings
from hospital.core.outbox import SEALED_KEY
from tests.integration.connector.conftest import DispatcherFactory, Sim, deliver_all, fresh_outbox
from tests.integration.prescriptions.conftest import signing_doctor
from tests.signing import signing_device

pytestmark = pytest.mark.requirement("RX-05", "STAFF-04")

STAFF = "uploadDoctorIndicators"


async def test_a_revoked_device_is_filed_with_the_doctor_record_and_its_certificate_state(
    client: AsyncTestClient[Any], demo: None, settings: Settings, sim: Sim, dispatchers: DispatcherFactory
) -> None:
    doctor = await signing_doctor(client)
    device_id = await signing_device(client, doctor)
    assert device_id is not None
    before = [e for e in await fresh_outbox(settings) if e.event_type == "signing.device_revoked"]
    assert before == []
    revoked = await client.post(f"/api/me/signing-devices/{device_id}/revocation", headers=doctor,
                                json={"reason": "key_compromise", "note": "手机丢失"})
    assert revoked.status_code == 200, revoked.text
    serial = revoked.json()["certificate_serial"]
    events = [e for e in await fresh_outbox(settings) if e.event_type == "signing.device_revoked"]
    assert [(e.subject_type, e.subject_id) for e in events] == [("signing_device", device_id)]
    stored = events[0].payload
    assert "record" not in stored and SEALED_KEY in stored  # the record (its ID number) is sealed, REC-03
    assert stored["certificate_serial"] == serial and stored["reason"] == "keyCompromise"
    again = await client.post(f"/api/me/signing-devices/{device_id}/revocation", headers=doctor,
                              json={"reason": "key_compromise"})
    assert again.status_code == 409  # refused: nothing more written
    assert len([e for e in await fresh_outbox(settings) if e.event_type == "signing.device_revoked"]) == 1

    await deliver_all(await dispatchers())
    filed = [r["record"] for r in await sim.records(STAFF) if r["record"].get("caCertSN") == serial]
    assert len(filed) == 1, await sim.records(STAFF)
    record = filed[0]
    assert record["caCertStatus"] == "2" and record["caRevokeReason"] == "keyCompromise"
    assert record["doctorName"] == "王医生" and record["doctorWorkCode"] and record["doctorCertID"]
    assert record["caActiveCount"] == 0 and record["caRevokeDate"] == record["updateTime"]
    assert await sim.warnings() == []
    sent = [e for e in await fresh_outbox(settings) if e.event_type == "signing.device_revoked"]
    assert [e.status for e in sent] == ["sent"]
