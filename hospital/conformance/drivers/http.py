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
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from hospital.conformance.drivers import Driver, NotApplicable, Outcome, admin_acts
from hospital.conformance.requirements import shared_dir
from hospital.core.pdf import one_page_pdf
from hospital.signing.device import DeviceKey

__all__ = ["HttpDriver"]

CHINA = timedelta(hours=8)
SESSION_REUSE = 180.0  # seconds a face-verified token is reused (signing needs one younger than 5 minutes)


# The visit's medical record as the doctor writes it (REC-01: every field the outpatient EMR has).
_EMR = {"chief_complaint": "血压控制复诊", "present_illness": "高血压病史3年，规律服药，近期血压 135/85 mmHg",
        "allergy_history": "无", "diagnosis_icd10": "I10", "diagnosis_name": "原发性高血压",
        "treatment_advice": "继续原方案服药，低盐饮食，1个月后复诊", "past_history": "无糖尿病史"}


def _resident_id(birth: date, rng: random.Random) -> str:
    from stdnum.cn import ric

    body = f"110101{birth:%Y%m%d}{rng.randrange(100, 999)}"
    return body + ric.calc_check_digit(body + "0")


def _registration_number(rng: random.Random) -> str:
    """A well-formed 医疗机构登记号 (REV-01): a 组织机构代码 with its GB 11714 check character, 东城区 110101,
    经济类型 11, 综合医院 A100, 非营利 1."""
    from hospital.visits.intake.rules.evidence import organisation_check_character

    organisation = f"{rng.randrange(10**7, 10**8)}"
    return f"{organisation}{organisation_check_character(organisation)}11010111A1001"


def _birth(age_years: float, today: date, rng: random.Random) -> date:
    """A birth date `age_years` old (and up to ten months more), so that patients of one age differ."""
    return today - timedelta(days=int(age_years * 365.25) + rng.randrange(2, 300))


def _pdf() -> bytes:
    """A one-page PDF standing in for the scanned outpatient record (the same shape as the demo's)."""
    return one_page_pdf(["Outpatient record", "Diagnosis: follow-up"])


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
        frames = burst(image, challenge["steps"], per_pose=2, seed=self.rng.randrange(1 << 30),
                       squeeze=self._squeeze.get(image))
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

    def _guardian(self, guardian: dict[str, Any]) -> dict[str, str]:
        """The guardian as the hospital is told of them: one person (one ID number) per name within a scenario."""
        name = guardian.get("name", "监护人")
        people: dict[str, str] = self.state.setdefault("guardians", {})
        if name not in people:
            people[name] = _resident_id(_birth(guardian.get("age_years", 35), self._today(), self.rng), self.rng)
        return {"name": name, "relationship": guardian.get("relationship", "parent"), "id_number": people[name]}

    def record_licence(self, licence: dict[str, Any]) -> Outcome:
        admin = self._staff("admin", verified=False)
        assert isinstance(admin, dict)
        page = self._request("GET", "/api/institution/disclosure")
        current = page.json().get("licence") if page.status_code == 200 else None
        if not current:
            raise NotApplicable("the disclosure shows no licence to record again with a flaw")
        body = {key: current[key] for key in ("licence_number", "institution_name", "internet_hospital_name",
                                              "issuer", "valid_from", "valid_until", "service_modes", "address",
                                              "legal_representative") if key in current}
        flaw = licence["flaw"]
        if flaw == "malformed_number":
            body["licence_number"] = "pdy 2026"
        elif flaw == "not_an_internet_hospital":
            body["internet_hospital_name"] = body["institution_name"].replace("互联网医院", "") + "在线诊室"
        elif flaw == "ends_before_it_starts":
            body["valid_until"] = body["valid_from"]
        else:
            raise NotApplicable(f"unknown licence flaw {flaw!r}")
        return self._outcome(self._request("POST", "/api/institution/licence", headers=admin, json=body))

    def open_department(self, department: dict[str, Any]) -> Outcome:
        return admin_acts.open_department(self, department)

    def record_incident(self, incident: dict[str, Any]) -> Outcome:
        return admin_acts.record_incident(self, incident)

    def admit_staff(self, staff: dict[str, Any]) -> Outcome:
        admin = self._staff("admin", verified=False)
        assert isinstance(admin, dict)
        kind = staff["kind"]
        qualification, practice = {"doctor": ("physician_qualification", "physician_practice"),
                                   "pharmacist": ("pharmacist_qualification", None),
                                   "nurse": ("nurse_qualification", "nurse_practice")}[kind]
        expires = (self._today() - timedelta(days=1) if staff["credentials"] == "expired"
                   else self._today() + timedelta(days=900)).isoformat()
        credentials = []
        if staff["credentials"] != "no_qualification":
            credentials.append({"kind": qualification, "number": f"{self.rng.randrange(10**9, 10**10)}"})
        if practice and staff["credentials"] != "no_practice":
            credentials.append({"kind": practice, "number": f"{self.rng.randrange(10**9, 10**10)}",
                                "valid_until": expires})
        suffix = secrets.token_hex(4)
        application = {
            "kind": kind, "username": f"conformance.{suffix}", "initial_password": f"c1{secrets.token_urlsafe(12)}",
            "real_name": "测试医务人员", "id_number": _resident_id(_birth(40, self._today(), self.rng), self.rng),
            "title": {"doctor": "主治医师", "pharmacist": "主管药师", "nurse": "护师"}[kind],
            "clinical_years": staff["clinical_years"], "departments": ["03.04"] if kind == "doctor" else [],
            "credentials": credentials,
            "practice_category": "临床" if kind == "doctor" else "", "practice_scope": "内科专业" if kind == "doctor"
            else "", "practice_institution": "示范市第一人民医院"}
        if staff["photo"] == "enrolled_doctor":  # the demo doctor's face; another photo of it to verify with
            photo, capture = (shared_dir() / "faces" / "obama3.jpg").read_bytes(), self.doctor_face
        else:  # a face no clinician of the hospital has: one per hospital, as a second admission would be refused
            fresh = [p for p in os.environ.get("HOSPITAL_CONFORMANCE_NEW_CLINICIAN_FACE", "").split(",") if p]
            if not fresh:
                raise NotApplicable("set HOSPITAL_CONFORMANCE_NEW_CLINICIAN_FACE to two photos (comma-separated: "
                                    "admission, verification) of a face the hospital has not enrolled")
            photo, capture = Path(fresh[0]).read_bytes(), Path(fresh[-1]).read_bytes()
        response = self._request("POST", "/api/staff", headers=admin, data={"application": json.dumps(application)},
                                 files={"photo": ("photo.jpg", photo, "image/jpeg")})
        if response.status_code != 201:
            return self._outcome(response)
        # FACE-01: the administrator's admission leaves the enrolment pending; the clinician gives their own
        # separate consent in their own session, and only then does a face verification follow.
        headers = self._login(application["username"], application["initial_password"])
        if staff["biometric_consent"]:
            text = self._request("GET", "/api/me/biometric-consent", headers=headers)
            if text.status_code != 200:
                return self._outcome(text)
            given = self._request("POST", "/api/me/biometric-consent", headers=headers, json={
                "version": text.json()["version"], "text_sha256": text.json()["text_sha256"]})
            if given.status_code not in (200, 201):
                return self._outcome(given)
        verified = self._verify(headers, capture)
        return verified if isinstance(verified, Outcome) else Outcome.ok(status=201)

    def read_disclosure(self, disclosure: dict[str, Any]) -> Outcome:
        response = self._request("GET", "/api/institution/disclosure")
        if response.status_code != 200:
            return self._outcome(response)
        page = response.json()
        missing = [item for item in disclosure["shows"] if not page.get(item)]
        if missing:
            return Outcome.refused("INS-03", f"the disclosure does not show {', '.join(missing)}", 200)
        return Outcome.ok(status=200)

    def intrude(self, intrusion: dict[str, Any]) -> Outcome:
        if intrusion["who"] == "own_patient":
            headers = self.state["patient_headers"]
        else:  # another real patient of the same hospital
            phone, password = f"138{self.rng.randrange(10**7, 10**8)}", f"s1{secrets.token_urlsafe(18)}"
            registered = self._request("POST", "/api/patients", json={
                "real_name": "另一患者", "id_number": _resident_id(_birth(30, self._today(), self.rng), self.rng),
                "phone": phone, "password": password})
            if registered.status_code != 201:
                raise RuntimeError(f"could not register a second patient: {registered.text[:300]}")
            headers = self._login(phone, password)
        response = self._request("GET", f"/api/visits/{self.state['visit']}", headers=headers)
        return self._outcome(response)

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
        patient, visit = self.state["patient_headers"], self.state["visit"]
        if feedback["rating"] is not None:
            rated = self._request("POST", f"/api/visits/{visit}/rating", headers=patient,
                                  json={"score": feedback["rating"], "comment": ""})
            if rated.status_code != 201:
                return self._outcome(rated)
        if feedback["complaint"] is not None:
            filed = self._request("POST", "/api/complaints", headers=patient,
                                  json={**feedback["complaint"], "visit_id": visit})
            if filed.status_code != 201:
                return self._outcome(filed)
            self.state["complaint"] = str(filed.json()["complaint_id"])
        event = feedback["adverse_event"]
        if event is not None:
            body = {"kind": event["kind"], "severity": event["severity"], "description": event["description"],
                    "occurred_on": (self._today() - timedelta(days=event["occurred_days_ago"])).isoformat(),
                    "visit_id": visit, "drug_code": event.get("drug_code")}
            reported = self._request("POST", "/api/adverse-events", headers=patient, json=body)
            if reported.status_code != 201:
                return self._outcome(reported)
            self.state["adverse_event"] = str(reported.json()["adverse_event_id"])
        return Outcome.ok()

    def register_patient(self, patient: dict[str, Any]) -> Outcome:
        today = self._today()
        birth = _birth(patient["age_years"], today, self.rng)
        self.state["birth"] = birth
        id_number = patient["id_number"] or _resident_id(birth, self.rng)
        self.state["patient"] = id_number
        phone = patient["phone"] or f"139{self.rng.randrange(10**7, 10**8)}"
        password = f"s1{secrets.token_urlsafe(18)}"  # SEC-01: letters and digits; fresh per run, never a known one
        response = self._request("POST", "/api/patients", json={
            "real_name": patient["real_name"], "id_number": id_number, "phone": phone, "password": password})
        if response.status_code != 201:
            return self._outcome(response)
        self.state["patient_headers"] = headers = self._login(phone, password)
        if patient["consent"]:
            version = self._request("GET", "/api/consent").json()["version"]
            body: dict[str, Any] = {"version": version}
            if patient["guardian"]:  # a minor's consent is the guardian's
                body["guardian"] = self._guardian(patient["guardian"])
            accepted = self._request("POST", "/api/consent/acceptances", headers=headers, json=body)
            if accepted.status_code != 201:
                return self._outcome(accepted)
        return Outcome.ok()

    def file_diagnosis(self, diagnosis: dict[str, Any]) -> Outcome:
        if not diagnosis["file"]:
            return Outcome.ok("nothing filed")
        days_ago = diagnosis["diagnosed_days_ago"]
        diagnosed_on = (self.state["birth"] - timedelta(days=30) if days_ago == "before_birth"
                        else self._today() - timedelta(days=days_ago))
        form = {"icd10_code": diagnosis["icd10"], "diagnosis_name": diagnosis["name"],
                "document_type": diagnosis["document_type"], "institution_name": diagnosis["institution"],
                "institution_kind": diagnosis["institution_kind"],
                "institution_registration_number": diagnosis["registration_number"] or _registration_number(self.rng),
                "diagnosed_on": diagnosed_on.isoformat()}
        files = {"document": ("record.pdf", _pdf(), "application/pdf")} if diagnosis["document"] == "pdf" else None
        response = self._request("POST", "/api/prior-diagnoses", headers=self.state["patient_headers"], data=form,
                                 files=files)
        if response.status_code == 201:
            self.state["prior"] = str(response.json()["prior_diagnosis_id"])
        return self._outcome(response)

    def book(self, booking: dict[str, Any]) -> Outcome:
        schedule = self._schedule(booking["department"], booking["mode"])
        if isinstance(schedule, Outcome):
            return schedule
        body: dict[str, Any] = {"schedule_id": schedule, "mode": booking["mode"],
                                "prior_diagnosis_id": self.state.get("prior") if booking["prior"] == "filed" else None,
                                # the page shows the published fee and the patient accepts it (INS-03)
                                "fee_cny": self._fees.get((booking["department"], booking["mode"]), ""),
                                "fee_accepted": True}
        guardian = booking["guardian"]
        if guardian:
            body["guardian"] = {**self._guardian(guardian), "present_confirmed": guardian.get("present_confirmed", True)}
        response = self._request("POST", "/api/visits", headers=self.state["patient_headers"], json=body)
        if response.status_code != 201:
            return self._outcome(response)
        self.state["visit"] = str(response.json()["visit_id"])
        if booking.get("twice"):  # the same slot again while the first booking stands (REV-06)
            again = self._request("POST", "/api/visits", headers=self.state["patient_headers"], json=body)
            if again.status_code != 201:
                return self._outcome(again)
        allergies = booking["allergies"]
        if allergies is None:  # the patient states nothing: nothing may be prescribed (RX-04)
            return Outcome.ok(status=201)
        statement: dict[str, Any] = ({"allergy_status": "no_known_allergies"} if allergies == "none_known" else
                                     {"allergy_status": "allergies", "allergies": list(allergies)})
        stated = self._request("PUT", "/api/me/safety-context", headers=self.state["patient_headers"],
                               json={**statement, "visit_id": self.state["visit"]})
        return self._outcome(stated)

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
        """The doctor's two steps (RX-07): the dry run returns the findings and the draft's hash, and signing names
        that hash for the very same draft."""
        draft: dict[str, Any] = {
            "diagnoses": [{"icd10": code, "name": name} for code, name in prescription["diagnoses"]],
            "items": [dict(item) for item in prescription["items"]],  # as the scenario writes them, 用法 too (RX-03)
            "validity_days": prescription["validity_days"]}
        for key in ("long_prescription_reason", "long_prescription_code"):
            if prescription[key]:
                draft[key] = prescription[key]
        path = f"/api/visits/{self.state['visit']}/prescriptions"
        body = dict(draft)
        if prescription["origin"] != "clinician":  # a machine's draft, with a hash of its own; no doctor checked it
            body["draft_sha256"] = hashlib.sha256(json.dumps(draft, sort_keys=True).encode()).hexdigest()
        elif prescription["signature_confirmed"]:
            checked = self._request("POST", f"{path}/check", headers=self.state["doctor"], json=draft)
            if checked.status_code != 200:
                return self._outcome(checked)
            body["draft_sha256"] = checked.json()["draft_sha256"]  # signed even with findings: the rules refuse
        response = self._signed_post(path, self.state["doctor"], body)
        if response.status_code == 201:
            written = response.json()
            self.state["rx"] = self.state["prescription"] = str(written["prescription_id"])
            self.state["findings"] = written.get("findings") or []
        return self._outcome(response)

    def review(self, review: dict[str, Any]) -> Outcome:
        if review["skip"]:
            return Outcome.ok("no review")
        if review["by"] == "prescriber":
            headers: dict[str, str] | Outcome = self.state["doctor"]
        else:
            headers = self._staff("pharmacist", verified=review["face"] == "own")
        if isinstance(headers, Outcome):
            return headers
        self.state["pharmacist"] = headers
        body: dict[str, Any] = {"decision": review["decision"], "reasons": review["reasons"],
                                "reason_codes": review["reason_codes"]}
        if review["decision"] == "approve" and review["acknowledge"] == "each":  # each warning answered, coded
            body["acknowledgements"] = [{"finding": index, "reason": review["acknowledgement_reason"]}
                                        for index, finding in enumerate(self.state.get("findings", []))
                                        if finding.get("severity") == "warn"]
        response = self._signed_post(f"/api/prescriptions/{self.state['rx']}/review", headers, body)
        return self._outcome(response)

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
        headers = self.state.get("pharmacist") or self._staff("pharmacist", verified=True)
        if isinstance(headers, Outcome):
            return headers
        body = {"courier_kind": dispense["courier_kind"], "courier_name": dispense["courier_name"]}
        outcome = Outcome.ok()
        for _ in range(2 if dispense["twice"] else 1):
            response = self._request("POST", f"/api/prescriptions/{self.state['rx']}/dispensing", headers=headers,
                                     json=body)
            outcome = self._outcome(response)
            if not outcome.accepted:
                return outcome
        return outcome

    def verify_export(self, export: dict[str, Any]) -> Outcome:
        bundle = self._request("GET", f"/api/prescriptions/{self.state['rx']}/export", headers=self.state["doctor"])
        if bundle.status_code != 200:
            return self._outcome(bundle)
        document = bundle.json()
        tamper = export["tamper"]
        if tamper == "dose":
            document["prescription"]["items"][0]["dose_per_time"] = "50"
        elif tamper == "signature":
            _flip(document)
        elif tamper != "none":
            raise NotApplicable(f"unknown tampering {tamper!r}")
        report = self._request("POST", "/api/rx/verify", json=document)
        if report.status_code != 200:
            return self._outcome(report)
        verdict = report.json()
        if verdict.get("ok"):
            return Outcome.ok()
        codes = ", ".join(str(p.get("code")) for p in verdict.get("problems", []))
        return Outcome.refused("RX-05", f"the export does not verify: {codes}", 200)


def _flip(document: dict[str, Any]) -> None:
    """Change one character in the middle of the first compact JWS's signature found in the bundle (top level
    or one level down)."""
    for holder in (document, *(v for v in document.values() if isinstance(v, dict))):
        for key, value in holder.items():
            if isinstance(value, str) and value.count(".") == 2 and len(value) > 100:
                head, payload, signature = value.split(".")
                middle = len(signature) // 2
                flipped = "A" if signature[middle] != "A" else "B"
                holder[key] = f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1:]}"
                return
    raise NotApplicable("the export carries no compact JWS to tamper with")
