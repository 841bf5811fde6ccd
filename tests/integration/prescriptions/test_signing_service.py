"""The hospital CA and clinicians' credentials in the running hospital (RX-05, FACE-03)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography import x509
from litestar.testing import AsyncTestClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.config import ConfigurationError, Settings
from hospital.context import HospitalContext, build_context
from hospital.core.errors import IntegrityFailure
from hospital.db import create_engine, session_factory
from hospital.identity.models import User
from hospital.signing import service as signing
from hospital.signing.models import SigningAuthority
from tests.helpers import count_rows
from tests.integration.prescriptions.conftest import make_visit, reviewing_pharmacist, signing_doctor, write
from tests.signing import device_signed, register_device, signing_device

pytestmark = pytest.mark.requirement("RX-05", "FACE-03")


async def started(settings: Settings) -> signing.HospitalSigning:
    """What a new app process (another replica, a restart) loads at start-up."""
    engine = create_engine(settings.resolved_database_url)
    try:
        return await signing.start_signing(session_factory(engine), build_context(settings))
    finally:
        await engine.dispose()


async def test_the_ca_is_created_on_first_start_and_published(client: AsyncTestClient[Any],
                                                             session: AsyncSession) -> None:
    ca = await client.get("/.well-known/hospital-ca.pem")
    assert ca.status_code == 200 and ca.text.startswith("-----BEGIN CERTIFICATE-----")
    certificate = x509.load_pem_x509_certificate(ca.text.encode())
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    crl = x509.load_pem_x509_crl((await client.get("/.well-known/hospital-crl.pem")).text.encode())
    assert crl.is_signature_valid(certificate.public_key())  # type: ignore[arg-type]
    assert (await client.get("/.well-known/jwks.json")).json() == {"keys": []}
    stored = (await session.execute(select(SigningAuthority))).scalar_one()
    assert "ENCRYPTED PRIVATE KEY" in stored.private_key_pem and stored.fingerprint == ca.headers["x-certificate-sha256"]


async def test_every_start_loads_the_same_ca_and_never_makes_a_second(client: AsyncTestClient[Any],
                                                                      session: AsyncSession, settings: Settings,
                                                                      demo: None) -> None:
    published = (await client.get("/.well-known/hospital-ca.pem")).headers["x-certificate-sha256"]
    assert (await started(settings)).fingerprint == published
    assert (await started(settings)).fingerprint == published
    assert await count_rows(session, SigningAuthority) == {"signing_authority": 1}


async def test_a_wrong_passphrase_stops_the_hospital_instead_of_regenerating_the_ca(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None
) -> None:
    with pytest.raises(ConfigurationError):
        await started(settings.with_(key_passphrase="not-the-passphrase"))
    assert await count_rows(session, SigningAuthority) == {"signing_authority": 1}


async def test_a_lost_ca_with_credentials_issued_is_an_integrity_failure(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None
) -> None:
    await signing_doctor(client)  # a device certified by the CA
    await session.execute(delete(SigningAuthority))
    await session.commit()
    with pytest.raises(IntegrityFailure):
        await started(settings)
    assert await count_rows(session, SigningAuthority) == {"signing_authority": 0}


async def test_no_key_is_issued_at_admission_and_registered_devices_are_published(
    session: AsyncSession, demo: None, client: AsyncTestClient[Any]
) -> None:
    assert await signing.clinician_credentials(session) == []  # RX-05: the hospital makes no clinician key
    await session.rollback()
    await signing_doctor(client)
    await reviewing_pharmacist(client)
    credentials = await signing.clinician_credentials(session)
    assert sorted((c.name, c.role) for c in credentials) == [("李药师", "pharmacist"), ("王医生", "doctor")]
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert sorted(k["kid"] for k in keys) == sorted(c.fingerprint for c in credentials)
    assert all(k["alg"] == "ES256" and len(k["x5c"]) == 2 for k in keys)


async def test_the_emr_is_signed_on_the_doctors_device(client: AsyncTestClient[Any], session: AsyncSession,
                                                      ctx: HospitalContext, demo: None) -> None:
    doctor = await signing_doctor(client)
    device = await signing_device(client, doctor)
    assert device is not None
    user_id = (await session.execute(select(User.id).where(User.role == "doctor"))).scalar_one()
    record = {"visit_id": "v-1", "diagnosis_icd10": "I10", "signed_at": ctx.now().isoformat()}

    async def act(signature: signing.DeviceSignature) -> signing.AcceptedSignature:
        return await signing.require_device_signature(session, ctx, user_id, "emr:test", record, signature)

    accepted = await act(await device_signed(act, device))
    verified = await signing.verify_signature(session, ctx, accepted.jws)
    assert verified.payload == record and verified.signer.role == "doctor" and verified.signer.name == "王医生"
    await session.rollback()


async def test_an_expired_device_certificate_cannot_sign_until_the_doctor_registers_a_new_device(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: Any, demo: None
) -> None:
    doctor = await signing_doctor(client)
    clock.advance(days=366)  # the certificate lives one year; the practice credential three
    visit = await make_visit(session, ctx)
    refused = await write(client, await signing_doctor(client), visit)
    assert refused.status_code == 422 and refused.json()["rule_id"] == "RX-05", refused.text
    fresh = await signing_doctor(client)
    assert (await register_device(client, fresh)).status_code == 201
    assert (await write(client, fresh, visit)).status_code == 201
    assert doctor != fresh


async def test_the_formulary_is_public_with_prices_and_what_may_be_prescribed_online(client: AsyncTestClient[Any],
                                                                                     demo: None) -> None:
    drugs = {d["code"]: d for d in (await client.get("/api/formulary")).json()}  # no token
    assert drugs["C08CA01-tab-5mg"]["price_cny"] == "4.90" and drugs["C08CA01-tab-5mg"]["prescribable_online"]
    assert drugs["N02AA01-tab-10mg"]["prescribable_online"] is False  # morphine (RX-02)
