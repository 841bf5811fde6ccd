"""The access matrix (SEC-01), generated from the app: every route of the app has a row naming who may call it, and
every other caller is refused: 401 for anonymous callers, 403 or 404 for the others (404 where the object is not
the caller's to know of). The callers: anonymous, patient A (the visit's), patient B, the visit's doctor, another
doctor, a pharmacist, an administrator; the objects are real (A's visit with the demo doctor, its prescription,
approved and dispensed, A's prior diagnosis).

A route without a row fails: whoever adds a route declares who may call it. A refusal is checked by calling the
route; a call a row allows is made for reads only (a write by an allowed caller would change the objects the
other rows need), and must not be refused (401/403)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from hospital.identity.service import create_user
from tests.helpers import login, login_as
from tests.integration.prescriptions.conftest import make_visit, rx_body
from tests.integration.prescriptions.helpers import approved, dispense
from tests.integration.visits.journey import EMR, new_patient

ANON, A, B, ADMIN = "anonymous", "patient_a", "patient_b", "admin"
DOC, OTHER_DOC, PHARM = "doctor", "other_doctor", "pharmacist"
EVERYONE = frozenset({ANON, A, B, DOC, OTHER_DOC, PHARM, ADMIN})
SIGNED_IN = EVERYONE - {ANON}
PATIENTS = frozenset({A, B})
DOCTORS = frozenset({DOC, OTHER_DOC})
CLINICIANS = DOCTORS | {PHARM}
VISIT = frozenset({A, DOC})  # the visit's patient and doctor

# (method, path) -> who may call it. Pages, static files and the schema are public (the pages check the role in
# the browser; their data comes from the API rows below).
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/health"): EVERYONE, ("GET", "/ready"): EVERYONE,
    ("POST", "/api/auth/login"): EVERYONE, ("POST", "/api/patients"): EVERYONE,
    ("POST", "/api/auth/password"): SIGNED_IN, ("POST", "/api/auth/logout"): SIGNED_IN,
    ("POST", "/api/auth/renew"): SIGNED_IN, ("GET", "/api/me"): SIGNED_IN,
    ("GET", "/api/institution"): EVERYONE, ("GET", "/api/institution/disclosure"): EVERYONE,
    ("GET", "/api/institution/departments"): frozenset({ADMIN}),
    ("POST", "/api/institution/licence"): frozenset({ADMIN}),
    ("POST", "/api/institution/service-stop"): frozenset({ADMIN}),
    ("DELETE", "/api/institution/service-stop"): frozenset({ADMIN}),
    ("GET", "/api/institution/service-stop"): frozenset({ADMIN}),
    ("POST", "/api/institution/service-stop/{stop_id:uuid}/confirmation"): frozenset({ADMIN}),
    ("PUT", "/api/institution/departments/{code:str}"): frozenset({ADMIN}),
    ("GET", "/api/staff"): frozenset({ADMIN}), ("POST", "/api/staff"): frozenset({ADMIN}),
    ("GET", "/api/staff/{staff_id:uuid}"): frozenset({ADMIN}),
    ("POST", "/api/staff/{staff_id:uuid}/suspension"): frozenset({ADMIN}),
    ("DELETE", "/api/staff/{staff_id:uuid}/suspension"): frozenset({ADMIN}),
    ("PUT", "/api/staff/{staff_id:uuid}/credentials"): frozenset({ADMIN}),
    ("GET", "/api/staff/{staff_id:uuid}/signing-devices"): frozenset({ADMIN}),
    ("POST", "/api/staff/{staff_id:uuid}/signing-devices/{device_id:uuid}/revocation"): frozenset({ADMIN}),
    ("POST", "/api/me/signing-devices/nonce"): CLINICIANS, ("GET", "/api/me/signing-devices"): CLINICIANS,
    ("POST", "/api/me/signing-devices"): CLINICIANS,
    ("POST", "/api/me/signing-devices/{device_id:uuid}/revocation"): CLINICIANS,
    ("PUT", "/api/staff/{staff_id:uuid}/departments"): frozenset({ADMIN}),
    ("GET", "/api/me/practice-session"): CLINICIANS,
    ("POST", "/api/me/face-verifications"): CLINICIANS,
    ("GET", "/api/me/face-verification-modes"): CLINICIANS,
    ("POST", "/api/me/face-challenges"): CLINICIANS,
    ("POST", "/api/me/face-challenges/{challenge_id:uuid}/burst"): CLINICIANS,
    ("GET", "/api/adverse-events"): frozenset({ADMIN}), ("POST", "/api/adverse-events"): PATIENTS | CLINICIANS,
    ("GET", "/api/complaints"): PATIENTS | {ADMIN}, ("POST", "/api/complaints"): PATIENTS,
    ("POST", "/api/complaints/{complaint_id:uuid}/answer"): frozenset({ADMIN}),
    ("POST", "/api/visits/{visit_id:uuid}/rating"): frozenset({A}),
    ("GET", "/api/consent"): EVERYONE,
    ("GET", "/api/consent/acceptances"): PATIENTS, ("POST", "/api/consent/acceptances"): PATIENTS,
    ("GET", "/api/prior-diagnoses"): PATIENTS, ("POST", "/api/prior-diagnoses"): PATIENTS,
    ("GET", "/api/prior-diagnoses/{prior_id:uuid}/document"): frozenset({A}),
    ("POST", "/api/prior-diagnoses/{prior_id:uuid}/withdrawal"): frozenset({A}),
    ("GET", "/api/schedules/bookable"): PATIENTS, ("GET", "/api/diagnosis-catalogue"): EVERYONE,
    ("GET", "/api/schedules"): EVERYONE, ("POST", "/api/schedules"): DOCTORS,
    ("POST", "/api/schedules/{schedule_id:uuid}/withdrawal"): frozenset({DOC, ADMIN}),  # the schedule's doctor
    ("GET", "/api/doctor/queue"): DOCTORS,
    ("GET", "/api/visits"): PATIENTS | DOCTORS, ("POST", "/api/visits"): PATIENTS,
    ("GET", "/api/visits/{visit_id:uuid}"): VISIT,
    ("POST", "/api/visits/{visit_id:uuid}/cancel"): frozenset({A}),
    ("POST", "/api/visits/{visit_id:uuid}/accept"): frozenset({DOC}),
    ("POST", "/api/visits/{visit_id:uuid}/start"): frozenset({DOC}),
    ("POST", "/api/visits/{visit_id:uuid}/complete"): frozenset({DOC}),
    ("POST", "/api/visits/{visit_id:uuid}/terminate"): frozenset({DOC}),
    ("GET", "/api/visits/{visit_id:uuid}/prior-diagnosis/document"): VISIT,
    ("GET", "/api/visits/{visit_id:uuid}/messages"): VISIT,
    ("POST", "/api/visits/{visit_id:uuid}/messages"): VISIT,
    ("GET", "/api/visits/{visit_id:uuid}/medical-record"): VISIT,
    ("PUT", "/api/visits/{visit_id:uuid}/medical-record"): frozenset({DOC}),
    ("POST", "/api/visits/{visit_id:uuid}/medical-record/sign-off"): frozenset({DOC}),
    ("GET", "/api/visits/{visit_id:uuid}/call"): VISIT,
    ("GET", "/api/visits/{visit_id:uuid}/call/ice-servers"): VISIT,
    ("GET", "/api/visits/{visit_id:uuid}/call/waiting-room"): VISIT,
    ("GET", "/api/doctor/call-waiting"): DOCTORS,  # scoped: see EMPTY_FOR
    ("POST", "/api/visits/{visit_id:uuid}/call/offer"): VISIT,
    ("POST", "/api/visits/{visit_id:uuid}/call/candidates"): VISIT,
    ("POST", "/api/visits/{visit_id:uuid}/call/leave"): VISIT,
    ("POST", "/api/visits/{visit_id:uuid}/call/resume"): frozenset({DOC}),
    ("GET", "/api/visits/{visit_id:uuid}/prescriptions"): PATIENTS | CLINICIANS,  # scoped: see EMPTY_FOR
    ("POST", "/api/visits/{visit_id:uuid}/prescriptions"): frozenset({DOC}),
    ("POST", "/api/visits/{visit_id:uuid}/prescriptions/check"): frozenset({DOC}),
    ("POST", "/api/prescriptions/{prescription_id:uuid}/revisions/check"): frozenset({DOC}),
    ("GET", "/api/safety-context/vocabulary"): PATIENTS | CLINICIANS,
    ("GET", "/api/me/safety-context"): PATIENTS, ("PUT", "/api/me/safety-context"): PATIENTS,
    ("GET", "/api/visits/{visit_id:uuid}/safety-context"): VISIT,
    ("POST", "/api/visits/{visit_id:uuid}/safety-context"): frozenset({DOC}),
    ("GET", "/api/prescriptions"): PATIENTS | CLINICIANS,
    ("GET", "/api/prescriptions/{prescription_id:uuid}"): VISIT | {PHARM},
    ("GET", "/api/prescriptions/{prescription_id:uuid}/export"): VISIT | {PHARM},
    ("GET", "/api/prescriptions/{prescription_id:uuid}/document.pdf"): VISIT | {PHARM},
    ("POST", "/api/prescriptions/{prescription_id:uuid}/revisions"): frozenset({DOC}),
    ("POST", "/api/prescriptions/{prescription_id:uuid}/countersignature"): frozenset({DOC}),
    ("GET", "/api/prescriptions/awaiting-countersignature"): frozenset({DOC}),
    ("GET", "/api/me/biometric-consent"): CLINICIANS, ("POST", "/api/me/biometric-consent"): CLINICIANS,
    ("POST", "/api/me/biometric-consent/withdrawal"): CLINICIANS,
    ("POST", "/api/prescriptions/{prescription_id:uuid}/review"): frozenset({PHARM}),
    ("POST", "/api/prescriptions/{prescription_id:uuid}/withdrawal"): frozenset({DOC}),
    ("POST", "/api/prescriptions/{prescription_id:uuid}/claim"): frozenset({PHARM}),
    ("GET", "/api/reviews/reasons"): frozenset({PHARM}),
    ("POST", "/api/prescriptions/{prescription_id:uuid}/release"): frozenset({PHARM}),
    ("POST", "/api/prescriptions/{prescription_id:uuid}/dispensing"): frozenset({PHARM}),
    ("POST", "/api/dispensings/{dispensing_id:uuid}/delivery"): frozenset({PHARM}),
    ("POST", "/api/prescriptions/{prescription_id:uuid}/collection"): frozenset({PHARM}),
    ("PUT", "/api/prescriptions/{prescription_id:uuid}/fulfilment"): frozenset({A}),
    ("GET", "/api/prescriptions/{prescription_id:uuid}/delivery-address"): frozenset({A, PHARM}),
    ("GET", "/api/reviews/queue"): frozenset({PHARM}), ("GET", "/api/dispensing/queue"): frozenset({PHARM}),
    ("GET", "/api/formulary"): EVERYONE, ("POST", "/api/rx/verify"): EVERYONE,
    ("GET", "/.well-known/hospital-ca.pem"): EVERYONE, ("GET", "/.well-known/hospital-crl.pem"): EVERYONE,
    ("GET", "/.well-known/jwks.json"): EVERYONE,
    ("GET", "/api/admin/connector"): frozenset({ADMIN}),
    ("GET", "/api/admin/security/authorities"): frozenset({ADMIN}),
    ("GET", "/api/admin/security/incidents"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/incidents"): frozenset({ADMIN}),
    ("GET", "/api/admin/security/incidents/{incident_id:uuid}"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/incidents/{incident_id:uuid}/account-actions"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/incidents/{incident_id:uuid}/assessment"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/incidents/{incident_id:uuid}/containment"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/incidents/{incident_id:uuid}/notes"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/incidents/{incident_id:uuid}/reports"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/incidents/{incident_id:uuid}/closure"): frozenset({ADMIN}),
    ("POST", "/api/admin/security/scan"): frozenset({ADMIN}),
}
# Lists any caller of the role may ask for, scoped to the caller: these callers get an empty one.
EMPTY_FOR: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/visits/{visit_id:uuid}/prescriptions"): frozenset({B, OTHER_DOC}),
    ("GET", "/api/doctor/call-waiting"): frozenset({OTHER_DOC}),
}
# Valid bodies for the routes whose refusal comes after the body is read (the role guard lets the caller in).
RX_BODY = rx_body()
BODIES: dict[str, Any] = {
    "/api/visits/{visit_id:uuid}/rating": {"score": 5},
    "/api/visits/{visit_id:uuid}/accept": {"revisit_confirmed": True},
    "/api/visits/{visit_id:uuid}/terminate": {"reason": "needs_physical_exam"},
    "/api/visits/{visit_id:uuid}/medical-record": EMR,
    "/api/visits/{visit_id:uuid}/prescriptions": RX_BODY,
    "/api/prescriptions/{prescription_id:uuid}/revisions": RX_BODY,
    "/api/prescriptions/{prescription_id:uuid}/fulfilment": {"method": "pickup"},
    "/api/prescriptions/{prescription_id:uuid}/collection": {"collector": "patient"},
    "/api/prescriptions/{prescription_id:uuid}/withdrawal": {"reason": "改为线下就诊"},
    "/api/visits/{visit_id:uuid}/prescriptions/check": RX_BODY,
    "/api/prescriptions/{prescription_id:uuid}/revisions/check": RX_BODY,
    "/api/schedules/{schedule_id:uuid}/withdrawal": {"reason": "临时停诊"},
    "/api/auth/password": {"current_password": "wrong-pass-1", "new_password": "new-pass-2027"},
    "/api/visits/{visit_id:uuid}/messages": {"body": "你好"},
    "/api/visits/{visit_id:uuid}/call/offer": {"type": "offer", "sdp": "v=0\r\n"},
    "/api/visits/{visit_id:uuid}/call/candidates": {"candidate": None},
    "/api/staff/{staff_id:uuid}/signing-devices/{device_id:uuid}/revocation": {"reason": "key_compromise"},
    "/api/me/signing-devices/{device_id:uuid}/revocation": {"reason": "key_compromise"},
}


def _public(path: str) -> bool:
    return not path.startswith(("/api/", "/.well-known/", "/health", "/ready"))


async def test_every_route_has_a_row_and_every_other_caller_is_refused(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None
) -> None:
    visit = await make_visit(session, ctx)
    rx, pharmacist = await approved(client, visit)
    dispensed = await dispense(client, pharmacist, rx)
    assert dispensed.status_code in (200, 201), dispensed.text
    dispensing_id = dispensed.json().get("dispensing_id") or dispensed.json()["dispensing"]["dispensing_id"]
    admin = await login_as(client, "admin")
    staff_id = next(m["staff_id"] for m in (await client.get("/api/staff", headers=admin)).json() if m["kind"] == "doctor")
    await create_user(session, ctx, username="doctor.other", password="other-pass-2026", role="doctor",
                      display_name="另一位医生")
    await session.commit()
    callers: dict[str, dict[str, str]] = {
        ANON: {}, A: await login_as(client, "patient"),
        B: await new_patient(client, "李四", date(1980, 5, 6), "13900139000"),
        DOC: await login_as(client, "doctor"), OTHER_DOC: await login(client, "doctor.other", "other-pass-2026"),
        PHARM: pharmacist, ADMIN: admin,
    }
    ids = {"visit_id": str(visit.id), "prescription_id": rx["prescription_id"], "dispensing_id": str(dispensing_id),
           "prior_id": str(visit.prior_diagnosis_id), "staff_id": staff_id, "complaint_id": str(uuid.uuid4()),
           "incident_id": str(uuid.uuid4()), "code": "03.04", "schedule_id": str(visit.schedule_id),
           "stop_id": str(uuid.uuid4()), "challenge_id": str(uuid.uuid4()), "device_id": str(uuid.uuid4())}

    routes = [(method, route.path) for route in client.app.routes if isinstance(route, HTTPRoute)
              for handler in route.route_handlers for method in sorted(handler.http_methods)
              if method not in ("HEAD", "OPTIONS")]
    missing = [r for r in routes if r not in MATRIX and not _public(r[1])]
    assert missing == [], f"routes without a row in the access matrix: {missing}"
    assert set(MATRIX) <= set(routes), f"rows for routes that are gone: {set(MATRIX) - set(routes)}"

    wrong: list[str] = []
    for method, path in routes:
        if _public(path):
            continue
        allowed = MATRIX[(method, path)]
        concrete = path
        for name, value in ids.items():
            concrete = concrete.replace(f"{{{name}:uuid}}", value).replace(f"{{{name}:str}}", value)
        for role, headers in callers.items():
            if role in allowed and method != "GET":
                continue  # an allowed write would change what the other rows need
            body = BODIES.get(path, {}) if method != "GET" else None
            response = await client.request(method, concrete, headers=headers,
                                            **({"json": body} if body is not None else {}))
            status = response.status_code
            if role in allowed:
                # a 403 naming a rule (FACE-02: no fresh face) is the act's own rule, not the role refused
                if status == 401 or (status == 403 and not response.json().get("rule_id")):
                    wrong.append(f"{method} {path} as {role}: refused {status}, the matrix allows it")
                if role in EMPTY_FOR.get((method, path), ()) and (status != 200 or response.json() != []):
                    wrong.append(f"{method} {path} as {role}: {status} {response.text[:80]}, not an empty list")
            elif role == ANON and status != 401:
                wrong.append(f"{method} {path} as {role}: {status}, not 401")
            elif role != ANON and status not in (403, 404):
                wrong.append(f"{method} {path} as {role}: {status}, not refused (403/404)")
    assert wrong == [], "\n".join(wrong)
    print(f"access matrix: {len(routes)} routes, {len(MATRIX)} rows, {len(callers)} callers")
