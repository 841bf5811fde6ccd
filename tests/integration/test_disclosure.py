"""The public disclosure (INS-03): every item the requirement names, readable without logging in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.staff.models import StaffMember
from hospital.visits.booking.models import Schedule
from hospital.visits.booking.service import MODES
from tests.helpers import login_as
from tests.integration.prescriptions.conftest import signing_doctor

pytestmark = pytest.mark.requirement("INS-03")


async def _publish_schedule(session: AsyncSession, ctx: HospitalContext) -> str:
    """A schedule of the demo doctor in his last department, 10 of 12 places free; returns the department code."""
    doctor = (await session.execute(select(StaffMember).where(StaffMember.kind == "doctor"))).scalar_one()
    start = ctx.now() + timedelta(days=20)  # beyond the 14 days listed: not shown
    session.add(Schedule(doctor_user_id=doctor.user_id, department_code=doctor.departments[-1], starts_at=start,
                         ends_at=start + timedelta(hours=3), capacity=12, booked=2))
    start = ctx.now() + timedelta(days=13, hours=20)
    session.add(Schedule(doctor_user_id=doctor.user_id, department_code=doctor.departments[-1], starts_at=start,
                         ends_at=start + timedelta(hours=3), capacity=12, booked=2, modes=["video", "text"]))
    await session.commit()
    return doctor.departments[-1]


async def _disclosure(client: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await client.get("/api/institution/disclosure")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_disclosure_names_every_ins_03_item_without_a_token(client: AsyncTestClient[Any], demo: None,
                                                                  session: AsyncSession, ctx: HospitalContext) -> None:
    department = await _publish_schedule(session, ctx)
    await signing_doctor(client)  # the doctor registers a signing device: its certificate is the e-credential
    body = await _disclosure(client)
    names = {d["code"]: d["name"] for d in body["departments"]}

    assert body["name"] == "示范互联网医院"
    licence = body["licence"]
    assert licence["licence_number"] == "PDY0001-310115-DEMO"
    assert licence["valid_from"] and licence["valid_until"] and body["licence_in_force"] is True
    assert "互联网诊疗" in licence["service_modes"]
    assert {"内科", "心血管内科专业"} <= set(names.values())
    assert "外科" not in {d["name"] for d in body["departments"]}  # not approved on the licence (INS-02)

    doctor = next(c for c in body["clinicians"] if c["kind"] == "doctor")
    assert (doctor["name"], doctor["title"]) == ("王医生", "主任医师")
    assert doctor["registration"]["number"] == "110310000000001"
    credential = doctor["e_credential"]  # the certificate the hospital CA issued to the doctor's device (RX-05)
    assert len(credential["certificate_serial"]) >= 16 and len(credential["fingerprint_sha256"]) == 64
    assert credential["valid_from"] < credential["valid_until"] and body["e_credential_note"]
    assert names[department] in {d["name"] for d in doctor["departments"]}
    pharmacist = next(c for c in body["clinicians"] if c["kind"] == "pharmacist")
    assert pharmacist["registration"]["number"] == "YS2010310001"

    ours = [s for s in body["schedules"] if s["modes"] == ["video", "text"]]  # the demo's offer all three modes
    assert len(ours) == 1  # 20 days ahead is not listed
    schedule = ours[0]
    assert (schedule["doctor"], schedule["department"], schedule["remaining"]) == ("王医生", names[department], 10)
    # One source of prices: a schedule's fees are the fee table's, mode by mode (¥20 text, ¥30 video)
    fees = {p["code"]: p["price_cny"] for p in body["prices"]["services"]}
    assert schedule["prices"] == {"video": fees["consult_video"], "text": fees["consult_text"]} == {
        "video": "30.00", "text": "20.00"}
    assert all(s["prices"] == {m: fees[f"consult_{m}"] for m in s["modes"]} for s in body["schedules"])
    assert body["service_hours"] and all(h["opens"] and h["closes"] for h in body["service_hours"])
    # only what booking accepts is advertised (the demo file also lists 语音, which booking refuses today)
    assert {m["code"] for m in body["service_modes"]} == set(MODES) == {r["mode"] for r in body["reply_time_limits"]}
    assert all(r["minutes"] > 0 for r in body["reply_time_limits"])
    assert any(p["code"].startswith("consult_") and p["price_cny"] for p in body["prices"]["services"])
    drugs = {d["name_zh"]: d for d in body["prices"]["drugs"]}
    assert drugs["苯磺酸氨氯地平片"]["price_cny"] == "4.90"
    complaints = body["complaints"]
    assert complaints["phone"] and complaints["email"] and complaints["address"]["zh"]
    assert len(body["dispute_procedure"]) >= 3


async def test_controlled_drugs_are_not_priced_because_they_are_never_prescribed_online(
        client: AsyncTestClient[Any], demo: None) -> None:
    from hospital.prescriptions.formulary.tables import load_formulary

    controlled = {d.code for d in load_formulary() if d.is_controlled}
    assert controlled, "the formulary should carry controlled drugs for RX-02 to refuse"
    priced = {d["code"] for d in (await _disclosure(client))["prices"]["drugs"]}
    assert priced and not priced & controlled


async def test_a_suspended_clinician_is_no_longer_listed(client: AsyncTestClient[Any], demo: None) -> None:
    admin = await login_as(client, "admin")
    staff = (await client.get("/api/staff/", headers=admin)).json()
    doctor = next(m for m in staff if m["kind"] == "doctor")
    response = await client.post(f"/api/staff/{doctor['staff_id']}/suspension", headers=admin,
                                 json={"reason": "licence under review"})
    assert response.status_code == 200, response.text
    assert [c["kind"] for c in (await _disclosure(client))["clinicians"]] == ["pharmacist"]


async def test_the_hospitals_own_disclosure_file_replaces_the_demo_values(
        client: AsyncTestClient[Any], demo: None, ctx: HospitalContext) -> None:
    from hospital.institution.reference import DISCLOSURE_FILE

    own = DISCLOSURE_FILE.read_text(encoding="utf-8").replace("021-5888-0000", "0755-1234-5678")
    (ctx.settings.data_dir / "disclosure.json").write_text(own, encoding="utf-8")
    assert (await _disclosure(client))["complaints"]["phone"] == "0755-1234-5678"
    # The consent the patient accepts names the same complaint line (PAT-02): one source for both.
    consent = (await client.get("/api/consent", headers=await login_as(client, "patient"))).json()
    assert "0755-1234-5678" in consent["zh"] and "0755-1234-5678" in consent["en"] and "12320" not in consent["zh"]


async def test_a_malformed_disclosure_file_is_refused_loudly(client: AsyncTestClient[Any], demo: None,
                                                             ctx: HospitalContext) -> None:
    (ctx.settings.data_dir / "disclosure.json").write_text('{"service_hours": []}', encoding="utf-8")
    response = await client.get("/api/institution/disclosure")
    assert response.status_code == 503
    assert "disclosure" in response.json()["detail"]


async def test_a_mode_booking_refuses_is_not_advertised(client: AsyncTestClient[Any], demo: None,
                                                        ctx: HospitalContext) -> None:
    import json

    from hospital.institution.reference import DISCLOSURE_FILE

    own = json.loads(DISCLOSURE_FILE.read_text(encoding="utf-8"))
    own["service_modes"].append({"code": "house_call", "name": {"zh": "上门复诊", "en": "House call"}})
    own["reply_time_limits"].append({"mode": "house_call", "minutes": 60, "text": {"zh": "上门", "en": "House call"}})
    (ctx.settings.data_dir / "disclosure.json").write_text(json.dumps(own, ensure_ascii=False), encoding="utf-8")
    body = await _disclosure(client)
    assert "house_call" not in {m["code"] for m in body["service_modes"]} | {r["mode"] for r in body["reply_time_limits"]}
    assert {m["code"] for m in body["service_modes"]} == set(MODES)


async def test_a_clinician_whose_credential_expired_is_not_listed(client: AsyncTestClient[Any], demo: None,
                                                                  ctx: HospitalContext) -> None:
    admin = await login_as(client, "admin")
    doctor = next(m for m in (await client.get("/api/staff/", headers=admin)).json() if m["kind"] == "doctor")
    yesterday = (ctx.today() - timedelta(days=1)).isoformat()
    renewed = await client.put(f"/api/staff/{doctor['staff_id']}/credentials", headers=admin, json={
        "credentials": [{"kind": "physician_practice", "number": "110310000000001", "valid_until": yesterday}]})
    assert renewed.status_code == 200, renewed.text
    body = await _disclosure(client)
    assert [c["kind"] for c in body["clinicians"]] == ["pharmacist"]
    assert body["schedules"] == []  # nor offered through the schedules of an expired clinician
