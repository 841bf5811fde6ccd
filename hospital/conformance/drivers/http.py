"""The reference's own driver: plays the journey through the hospital's HTTP API (what `hospital demo` serves).

Staff accounts and faces default to the demo's (doctor.wang enrolled from obama.jpg, verified with obama2.jpg;
pharmacist.li enrolled from biden.jpg, verified with Biden's face cut from obama_and_biden.jpg, in
../shared/faces); set HOSPITAL_CONFORMANCE_DOCTOR / _PHARMACIST ("username:password") and _DOCTOR_FACE /
_PHARMACIST_FACE (image paths) for another hospital. Faces are verified with one still capture where the hospital
allows it (the reference outside production), else by answering the liveness challenge (FACE-02): a burst of
frames made from the still photo (drivers/bursts.py: warps, a zoom and camera noise, which follow the challenge's
moves in its order). HOSPITAL_CONFORMANCE_FACE_MODE=liveness answers the challenge even where a still would do.
A scenario that admits a clinician who must then verify (FACE-01: the clinician's own consent) needs a face the
hospital has not enrolled: HOSPITAL_CONFORMANCE_NEW_CLINICIAN_FACE="admission.jpg,capture.jpg" (once per hospital;
the test suite uses tests/data/faces/alex1.jpg and alex2.jpg); without it those scenarios are not applicable.
Every scenario logs a new patient in: against a served hospital, raise its log-in rate limit for the run
(HOSPITAL_LOGIN_RATE=10000; the driver otherwise waits out each limit, a minute at a time). A refusal is read
from the problem-details body: its `rule_id` is the
requirement the scenario expects.

What the supervision platform received is read from the simulator's admin view, `/sim/records/{method}`, at
HOSPITAL_CONFORMANCE_PLATFORM (default: the demo's own simulator, `<target>/demo/platform`); a hospital reporting
to a platform this driver cannot read makes the scenarios that check the platform not applicable.

This module keeps the plumbing (requests, log-in, face verification, device signing, schedules) and the visit's
clinician steps; the other acts are in admin_acts.py, patient_acts.py and prescription_acts.py, and the made-up
people and papers in people.py.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from hospital.conformance.drivers import Driver, NotApplicable, Outcome, admin_acts, patient_acts, prescription_acts
from hospital.conformance.requirements import shared_dir
from hospital.signing.device import DeviceKey

__all__ = ["HttpDriver"]

CHINA = timedelta(hours=8)
SESSION_REUSE = 180.0  # seconds a face-verified token is reused (signing needs one younger than 5 minutes)


# The visit's medical record as the doctor writes it (REC-01: every field the outpatient EMR has).
_EMR = {"chief_complaint": "血压控制复诊", "present_illness": "高血压病史3年，规律服药，近期血压 135/85 mmHg",
        "allergy_history": "无", "diagnosis_icd10": "I10", "diagnosis_name": "原发性高血压",
        "treatment_advice": "继续原方案服药，低盐饮食，1个月后复诊", "past_history": "无糖尿病史"}


def _default_faces() -> tuple[bytes, bytes]:
    faces = shared_dir() / "faces"
    doctor = Path(os.environ.get("HOSPITAL_CONFORMANCE_DOCTOR_FACE", faces / "obama2.jpg")).read_bytes()
    if "HOSPITAL_CONFORMANCE_PHARMACIST_FACE" in os.environ:
        return doctor, Path(os.environ["HOSPITAL_CONFORMANCE_PHARMACIST_FACE"]).read_bytes()
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(faces / "obama_and_biden.jpg").crop((600, 300, 1080, 800)).save(buffer, "JPEG", quality=92)
    return doctor, buffer.getvalue()


def _account(variable: str, default: str) -> tuple[str, str]:
    username, _, password = os.environ.get(variable, default).partition(":")
    return username, password


class HttpDriver(Driver):
    """Plays scenarios over HTTP. `client` may be given (an httpx.Client, say litestar's TestClient of an
    in-process app); otherwise one is opened on `target`."""

    def __init__(self, target: str, client: httpx.Client | None = None, seed: int | None = None) -> None:
        super().__init__(target)
        self.http = client or httpx.Client(base_url=target.rstrip("/"), timeout=60)
        self._own_client = client is None
        self.rng = random.Random(seed)  # nosec B311: synthetic birth dates, phones and slots, reproducible by seed; no secret
        self.doctor_account = _account("HOSPITAL_CONFORMANCE_DOCTOR", "doctor.wang:doctor-demo-2026")
        self.pharmacist_account = _account("HOSPITAL_CONFORMANCE_PHARMACIST", "pharmacist.li:pharmacist-demo-2026")
        self.admin_account = _account("HOSPITAL_CONFORMANCE_ADMIN", "admin:admin-demo-2026")
        self.doctor_face, self.pharmacist_face = _default_faces()
        # Biden's face cut from the group photo turns too little under the squeeze measured on obama2.jpg: its own
        # (the yaw moves 0.085 and -0.10 against the 0.05 a turn needs, measured here), for the liveness burst.
        self._squeeze = ({} if "HOSPITAL_CONFORMANCE_PHARMACIST_FACE" in os.environ
                         else {self.pharmacist_face: {"turn_left": 0.45, "turn_right": 0.5}})
        self._tokens: dict[str, tuple[float, dict[str, str]]] = {}
        self._face_modes: dict[str, bool] = {}  # what the hospital told of its face verification
        self._schedules: dict[tuple[str, str], str] = {}
        self._fees: dict[tuple[str, str], str] = {}  # the fee each schedule shows for its mode (INS-03)
        self.state: dict[str, Any] = {}
        self.platform = os.environ.get("HOSPITAL_CONFORMANCE_PLATFORM", "/demo/platform").rstrip("/")

    def close(self) -> None:
        if self._own_client:
            self.http.close()

    # -- plumbing -------------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for _ in range(30):
            response = self.http.request(method, url, **kwargs)
            if response.status_code != 429:
                return response
            time.sleep(min(float(response.headers.get("Retry-After", "2") or 2), 10))
        return response

    @staticmethod
    def _outcome(response: httpx.Response, ok: tuple[int, ...] = (200, 201)) -> Outcome:
        if response.status_code in ok:
            return Outcome.ok(status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        return Outcome.refused(body.get("rule_id"), str(body.get("detail") or response.text)[:500],
                               response.status_code)

    def _login(self, username: str, password: str) -> dict[str, str]:
        # The log-in rate limit (SEC-01) answers 429 with Retry-After: `_request` waits, as a person would.
        response = self._request("POST", "/api/auth/login", json={"username": username, "password": password})
        if response.status_code != 200:
            raise RuntimeError(f"log-in of {username} failed: {response.status_code} {response.text[:300]}")
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def _staff(self, role: str, *, verified: bool) -> dict[str, str] | Outcome:
        """A staff member's headers (cached); with `verified`, a fresh practice session (face verified)."""
        key = f"{role}:{verified}"
        cached = self._tokens.get(key)
        if cached and time.monotonic() - cached[0] < SESSION_REUSE:
            return cached[1]
        username, password = {"doctor": self.doctor_account, "pharmacist": self.pharmacist_account,
                              "admin": self.admin_account}[role]
        headers = self._login(username, password)
        if verified:
            outcome = self._verify(headers, self.doctor_face if role == "doctor" else self.pharmacist_face)
            if isinstance(outcome, Outcome):
                return outcome
            headers = outcome
        self._tokens[key] = (time.monotonic(), headers)
        return headers

    def _verify(self, headers: dict[str, str], image: bytes) -> dict[str, str] | Outcome:
        """One still capture where the hospital takes one; else the liveness challenge answered with a burst
        (production: the single image is a legacy option, off)."""
        if "single_image" not in self._face_modes:
            modes = self._request("GET", "/api/me/face-verification-modes", headers=headers)
            self._face_modes["single_image"] = (
                os.environ.get("HOSPITAL_CONFORMANCE_FACE_MODE", "auto") != "liveness"
                and (modes.status_code != 200 or bool(modes.json().get("single_image"))))
        if not self._face_modes["single_image"]:
            return self._answer_challenge(headers, image)
        response = self._request("POST", "/api/me/face-verifications", headers=headers,
                                 files={"image": ("capture.jpg", image, "image/jpeg")})
        if response.status_code != 201:
            return self._outcome(response)
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def _answer_challenge(self, headers: dict[str, str], image: bytes) -> dict[str, str] | Outcome:
        """The liveness challenge (FACE-02): its moves, in its order, as a burst of frames made from `image`."""
        from hospital.conformance.drivers.bursts import burst

        issued = self._request("POST", "/api/me/face-challenges", headers=headers)
        if issued.status_code != 201:
            return self._outcome(issued)
        challenge = issued.json()
        # The pages' burst (rest, then one frame per move), or, where the hospital asks for more frames, each
        # move held twice with a return to rest.
        pages_burst = len(challenge["steps"]) + 1 >= challenge.get("min_frames", 0)
        frames = burst(image, challenge["steps"], per_pose=1 if pages_burst else 2, rests=not pages_burst,
                       seed=self.rng.randrange(1 << 30), squeeze=self._squeeze.get(image))
        response = self._request("POST", f"/api/me/face-challenges/{challenge['challenge_id']}/burst",
                                 headers=headers, data={"nonce": challenge["nonce"]},
                                 files=[("frames", (f"frame{i}.jpg", data, "image/jpeg"))
                                        for i, data in enumerate(frames)])
        if response.status_code != 201:
            return self._outcome(response)
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def _today(self) -> date:
        return (datetime.now(UTC) + CHINA).date()

    def _schedule(self, department: str, mode: str) -> str | Outcome:
        """A future schedule of the doctor's in `department`, published once per run (random hours, retried on
        an overlap, so repeated runs against one hospital do not collide)."""
        key = (department, mode)
        if key in self._schedules:
            return self._schedules[key]
        doctor = self._staff("doctor", verified=False)
        assert isinstance(doctor, dict)
        for _ in range(40):  # within the next two weeks: a prior diagnosis's window is reckoned at the visit's day
            day = self._today() + timedelta(days=self.rng.randrange(1, 14))
            starts = (datetime(day.year, day.month, day.day, tzinfo=UTC) - CHINA
                      + timedelta(minutes=20 * self.rng.randrange(0, 70)))
            response = self._request("POST", "/api/schedules", headers=doctor, json={
                "department_code": department, "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(minutes=20)).isoformat(), "capacity": 200})
            if response.status_code == 201:
                self._schedules[key] = str(response.json()["schedule_id"])
                self._fees[key] = str(response.json().get("prices", {}).get(mode, ""))
                return self._schedules[key]
            if response.status_code != 409:
                return self._outcome(response)
        raise RuntimeError("could not publish a schedule that overlaps none of the doctor's")

    # -- the steps --------------------------------------------------------------------------------------------
    def begin(self, scenario: str) -> None:
        self.state = {"scenario": scenario}

    def scenario_ids(self) -> dict[str, str]:
        return {key: str(self.state[key]) for key in ("visit", "prescription", "patient", "complaint", "adverse_event",
                                                      "incident") if key in self.state}

    def received(self, method: str, of: str) -> list[dict[str, Any]]:
        ids = self.scenario_ids()
        if of not in ids:  # the scenario never got that far: nothing can be of it
            return []
        response = self._request("GET", f"{self.platform}/sim/records/{method}")
        if response.status_code != 200:
            raise NotApplicable(f"no supervision simulator at {self.platform} ({response.status_code}); set "
                                "HOSPITAL_CONFORMANCE_PLATFORM to the platform's /sim admin URL")
        return [entry for entry in response.json()  # named in any field, or inside one ("overridden_warning:<id>")
                if ids[of] in json.dumps(entry.get("record"), ensure_ascii=False)]

    def record_licence(self, licence: dict[str, Any]) -> Outcome:
        return admin_acts.record_licence(self, licence)

    def open_department(self, department: dict[str, Any]) -> Outcome:
        return admin_acts.open_department(self, department)

    def record_incident(self, incident: dict[str, Any]) -> Outcome:
        return admin_acts.record_incident(self, incident)

    def admit_staff(self, staff: dict[str, Any]) -> Outcome:
        return admin_acts.admit_staff(self, staff)

    def read_disclosure(self, disclosure: dict[str, Any]) -> Outcome:
        return admin_acts.read_disclosure(self, disclosure)

    def intrude(self, intrusion: dict[str, Any]) -> Outcome:
        return patient_acts.intrude(self, intrusion)

    def complete(self, completion: dict[str, Any]) -> Outcome:
        visit, doctor = self.state["visit"], self.state["doctor"]
        record = dict(_EMR)
        if completion["record"] == "no_chief_complaint":
            record["chief_complaint"] = ""
        for method, path, body in (("PUT", "medical-record", record), ("POST", "medical-record/sign-off", {}),
                                   ("POST", "complete", None)):
            url = f"/api/visits/{visit}/{path}"
            response = (self._signed_post(url, doctor, body or {}) if path.endswith("sign-off")  # signed on the device (RX-05)
                        else self._request(method, url, headers=doctor, **({"json": body} if body is not None else {})))
            if response.status_code not in (200, 201):
                return self._outcome(response)
        return Outcome.ok()

    def feedback(self, feedback: dict[str, Any]) -> Outcome:
        return patient_acts.feedback(self, feedback)

    def register_patient(self, patient: dict[str, Any]) -> Outcome:
        return patient_acts.register_patient(self, patient)

    def file_diagnosis(self, diagnosis: dict[str, Any]) -> Outcome:
        return patient_acts.file_diagnosis(self, diagnosis)

    def book(self, booking: dict[str, Any]) -> Outcome:
        return patient_acts.book(self, booking)

    def verify_face(self, doctor: dict[str, Any]) -> Outcome:
        face = doctor["face"]
        if face == "none":
            plain = self._staff("doctor", verified=False)
            assert isinstance(plain, dict)
            self.state["doctor"] = plain
            return Outcome.ok("no verification")
        if face == "other":
            plain = self._staff("doctor", verified=False)
            assert isinstance(plain, dict)
            outcome = self._verify(plain, self.pharmacist_face)
            if isinstance(outcome, Outcome):
                return outcome
            self.state["doctor"] = outcome
            return Outcome.ok()
        headers = self._staff("doctor", verified=True)
        if isinstance(headers, Outcome):
            return headers
        self.state["doctor"] = headers
        return Outcome.ok()

    def accept(self, accept: dict[str, Any]) -> Outcome:
        visit = self.state["visit"]
        if accept["document_opened"]:  # the doctor reads the record the revisit rests on
            document = self._request("GET", f"/api/visits/{visit}/prior-diagnosis/document",
                                     headers=self.state["doctor"])
            if document.status_code != 200:
                return self._outcome(document)
        body: dict[str, Any] = {"revisit_confirmed": accept["revisit_confirmed"]}
        if accept["name_resolution"]:
            body["name_resolution"] = accept["name_resolution"]
        response = self._request("POST", f"/api/visits/{visit}/accept", headers=self.state["doctor"], json=body)
        return self._outcome(response)

    def start(self, start: dict[str, Any]) -> Outcome:
        response = self._request("POST", f"/api/visits/{self.state['visit']}/start", headers=self.state["doctor"],
                                 json={"guardian_present_confirmed": start["guardian_present_confirmed"]})
        return self._outcome(response)

    def write_prescription(self, prescription: dict[str, Any]) -> Outcome:
        return prescription_acts.write_prescription(self, prescription)

    def review(self, review: dict[str, Any]) -> Outcome:
        return prescription_acts.review(self, review)

    def _signed_post(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
        """A signing act as a clinician's device makes it (RX-05): the hospital answers 428 with the payload it
        prepared, the device signs those bytes, the same request goes again with the JWS."""
        device = self._signing_device(headers)
        if device is not None:
            body = {**body, "signature": {"device_id": device[0]}}
        response = self._request("POST", path, headers=headers, json=body)
        if response.status_code != 428 or device is None:
            return response
        problem = response.json()
        return self._request("POST", path, headers=headers, json={**body, "signature": {
            "device_id": device[0], "signing_request": problem["signing_request"],
            "jws": device[1].sign(problem["payload_b64"], device[2])}})

    def _signing_device(self, headers: dict[str, str]) -> tuple[str, DeviceKey, list[str]] | None:
        """The clinician's device key, registered on first use (needs a fresh face); None if it cannot be."""
        devices = self.state.setdefault("devices", {})
        known = devices.get(headers.get("Authorization", ""))
        if known is not None:
            return known  # type: ignore[no-any-return]
        nonce = self._request("POST", "/api/me/signing-devices/nonce", headers=headers)
        if nonce.status_code != 200:
            return None
        key, value = DeviceKey.generate(), nonce.json()["nonce"]
        registered = self._request("POST", "/api/me/signing-devices/", headers=headers, json={
            "name": "conformance driver", "public_key": key.public_key_b64(), "nonce": value,
            "proof": key.prove(value)})
        if registered.status_code != 201:
            return None
        device = (str(registered.json()["device_id"]), key, list(registered.json()["certificate_chain_pem"]))
        devices[headers.get("Authorization", "")] = device
        return device

    def dispense(self, dispense: dict[str, Any]) -> Outcome:
        return prescription_acts.dispense(self, dispense)

    def verify_export(self, export: dict[str, Any]) -> Outcome:
        return prescription_acts.verify_export(self, export)

