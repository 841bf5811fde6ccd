"""Suspension is not forgery (issue 19): suspending a clinician revokes the certificate with a reason
(privilege_withdrawn) and an invalidity date, so what they signed before keeps verifying, without `at`; a
signature made with the same key after the revocation does not."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from cryptography import x509
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.signing.canonical import canonical_json
from hospital.signing.cli import rx as rx_cli
from hospital.signing.export import bundle_to_json
from hospital.signing.models import ClinicianCredential
from hospital.visits.booking.models import Visit
from tests.conftest import FakeClock
from tests.helpers import login_as
from tests.integration.prescriptions.helpers import approved
from tests.signing import DEVICE_KEYS


def codes(report: dict[str, Any]) -> set[str]:
    return {p["code"] for p in report["problems"]}


async def suspend(client: AsyncTestClient[Any], staff_id: str) -> None:
    suspended = await client.post(f"/api/staff/{staff_id}/suspension", headers=await login_as(client, "admin"),
                                  json={"reason": "执业证书被注销"})
    assert suspended.status_code == 200, suspended.text


async def test_a_suspended_doctors_earlier_prescription_still_verifies_without_at(
    client: AsyncTestClient[Any], ctx: HospitalContext, clock: FakeClock, visit: Visit, tmp_path: Path
) -> None:
    rx, _ = await approved(client, visit)
    clock.advance(minutes=10)
    await suspend(client, rx["document"]["doctor"]["staff_id"])
    clock.advance(days=3)
    bundle = (await client.get(f"/api/prescriptions/{rx['prescription_id']}/export",
                               headers=await login_as(client, "patient"))).json()
    # The bundle's CRL lists the certificate, revoked for privilege_withdrawn with an invalidity date.
    entry = x509.load_pem_x509_crl(bundle["crl_pem"].encode()).get_revoked_certificate_by_serial_number(
        int(rx["document"]["doctor"]["certificate_serial"], 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.privilege_withdrawn
    invalid_since = entry.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc
    assert ctx.now() - timedelta(days=3, seconds=1) <= invalid_since <= ctx.now() - timedelta(days=3)
    online = (await client.post("/api/rx/verify", json=bundle)).json()  # no `at`: checked now, three days later
    assert online["ok"] is True, online
    (tmp_path / "rx.json").write_bytes(bundle_to_json(bundle))
    (tmp_path / "ca.pem").write_text((await client.get("/.well-known/hospital-ca.pem")).text)
    result = CliRunner().invoke(rx_cli, ["verify", str(tmp_path / "rx.json"), "--ca", str(tmp_path / "ca.pem"),
                                         "--at", ctx.now().isoformat()])
    assert result.exit_code == 0, result.output


async def test_a_prescription_signed_with_the_key_after_the_suspension_does_not_verify(
    client: AsyncTestClient[Any], ctx: HospitalContext, clock: FakeClock, session: AsyncSession, visit: Visit
) -> None:
    rx, _ = await approved(client, visit)
    bundle = (await client.get(f"/api/prescriptions/{rx['prescription_id']}/export",
                               headers=await login_as(client, "patient"))).json()
    clock.advance(minutes=10)  # a CRL's dates have whole seconds: a signature in the revocation's second counts as after
    await suspend(client, rx["document"]["doctor"]["staff_id"])
    clock.advance(hours=1)
    # Whoever still holds the revoked device key signs a copy dated after the suspension.
    row = (await session.execute(select(ClinicianCredential.id, ClinicianCredential.revoked_at,
                                        ClinicianCredential.invalid_since).where(
        ClinicianCredential.serial == rx["document"]["doctor"]["certificate_serial"]))).one()
    await session.rollback()
    credential_id, revoked_at, invalid_since = row
    assert revoked_at is not None and invalid_since is not None
    key, chain = DEVICE_KEYS[str(credential_id)]
    late = {**bundle["prescription"], "issued_at": ctx.now().isoformat()}
    payload_b64 = base64.urlsafe_b64encode(canonical_json(late)).rstrip(b"=").decode("ascii")
    forged = {**bundle, "prescription": late, "prescription_jws": key.sign(payload_b64, chain)}
    online = (await client.post("/api/rx/verify", json=forged)).json()
    assert online["ok"] is False and "doctor_certificate_revoked" in codes(online)
    # The genuine, earlier one still verifies beside it.
    genuine = (await client.post("/api/rx/verify", json=bundle)).json()
    assert genuine["ok"] is True, genuine["problems"]
