from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509

from hospital.core.errors import InvalidInput
from hospital.signing.ca import CertificateAuthority, ClinicianRole, Revocation
from hospital.signing.export import ReviewDecision, build_export_bundle, bundle_to_json, review_payload
from hospital.signing.pem import fingerprint_sha256
from hospital.signing.verify_export import ExportReport, verify_export

from .conftest import NOW, SOON, Clinician, admit, prescription_payload

pytestmark = pytest.mark.requirement("RX-05", "RX-06")


def make_bundle(
    ca: CertificateAuthority,
    prescriber: Clinician,
    reviewer: Clinician,
    *,
    decision: ReviewDecision = ReviewDecision.APPROVE,
    revoked: list[Revocation] | None = None,
) -> dict[str, Any]:
    prescription = prescription_payload()
    review = review_payload(
        prescription,
        decision=decision,
        reasons=[] if decision is ReviewDecision.APPROVE else ["剂量超过最大日剂量"],
        pharmacist_name=reviewer.identity.name,
        pharmacist_staff_id=reviewer.identity.staff_id,
        reviewed_at=NOW + timedelta(minutes=10),
        prescription_number=prescription["prescription_number"],
    )
    bundle = build_export_bundle(
        prescription=prescription,
        prescription_jws=prescriber.signer.sign(prescription),
        review_jws=reviewer.signer.sign(review),
        ca_certificate=ca.certificate,
        crl=ca.build_crl(revoked or [], now=NOW, crl_number=1),
        exported_at=NOW + timedelta(minutes=20),
    )
    return json.loads(bundle_to_json(bundle))  # what a pharmacy reads from the file


def check(bundle: dict[str, Any], ca: CertificateAuthority) -> ExportReport:
    return verify_export(bundle, trusted_roots=[ca.certificate], at=SOON)


def codes(report: ExportReport) -> set[str]:
    return {problem.code for problem in report.problems}


def test_a_valid_bundle_passes(ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician) -> None:
    report = check(make_bundle(ca, doctor, pharmacist), ca)
    assert report.ok, report.problems
    assert report.prescriber is not None and report.prescriber.staff_id == "D-001"
    assert report.reviewer is not None and report.reviewer.staff_id == "P-007"
    assert report.decision == "approve"
    assert report.as_dict()["ok"] is True


def test_one_changed_byte_in_the_prescription_is_named_precisely(
    ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician
) -> None:
    bundle = make_bundle(ca, doctor, pharmacist)
    bundle["prescription"]["items"][0]["quantity"] = 80  # "30" -> "80": one byte
    report = check(bundle, ca)
    assert not report.ok
    assert "prescription_altered" in codes(report)
    message = next(p.message for p in report.problems if p.code == "prescription_altered")
    assert "doctor signature does not match" in message and "$.items[0].quantity signed as 30, bundle has 80" in message
    assert "review_hash_mismatch" not in codes(report)  # the review names the signed bytes, which are intact


@pytest.mark.parametrize("field", ["prescription_jws", "review_jws"])
def test_one_changed_byte_inside_a_signature_s_payload_fails(
    ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician, field: str
) -> None:
    import base64

    bundle = make_bundle(ca, doctor, pharmacist)
    head, body, signature = bundle[field].split(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[5] ^= 0x01
    bundle[field] = f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}.{signature}"
    report = check(bundle, ca)
    who = "doctor" if field == "prescription_jws" else "reviewer"
    assert f"{who}_bad_signature" in codes(report)
    assert "byte changed" in next(p.message for p in report.problems if p.code == f"{who}_bad_signature")


def test_a_review_by_the_prescriber_fails(ca: CertificateAuthority, doctor: Clinician) -> None:
    # The same person (staff D-001) holding a pharmacist certificate still may not review their own prescription.
    same_person = admit(ca, "张伟", "D-001", ClinicianRole.PHARMACIST)
    report = check(make_bundle(ca, doctor, same_person), ca)
    assert codes(report) == {"reviewer_is_prescriber"}
    assert "reviewed by another person" in report.problems[0].message


def test_a_review_signed_with_a_doctor_certificate_fails(ca: CertificateAuthority, doctor: Clinician) -> None:
    colleague = admit(ca, "刘医生", "D-020", ClinicianRole.DOCTOR)
    report = check(make_bundle(ca, doctor, colleague), ca)
    assert codes(report) == {"reviewer_not_pharmacist"}
    assert "doctor certificate of 刘医生" in report.problems[0].message


def test_a_prescription_signed_by_a_pharmacist_fails(ca: CertificateAuthority, pharmacist: Clinician) -> None:
    other_pharmacist = admit(ca, "陈药师", "P-008", ClinicianRole.PHARMACIST)
    report = check(make_bundle(ca, pharmacist, other_pharmacist), ca)
    assert codes(report) == {"prescriber_not_doctor"}


def test_a_rejected_prescription_is_not_valid(ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician) -> None:
    report = check(make_bundle(ca, doctor, pharmacist, decision=ReviewDecision.REJECT), ca)
    assert codes(report) == {"review_not_approved"}
    assert "剂量超过最大日剂量" in report.problems[0].message


def test_a_review_of_another_version_fails(ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician) -> None:
    bundle = make_bundle(ca, doctor, pharmacist)
    altered = copy.deepcopy(bundle["prescription"])
    altered["total_amount"] = "99.00"
    bundle["prescription"] = altered
    bundle["prescription_jws"] = doctor.signer.sign(altered)  # re-signed after the review
    assert codes(check(bundle, ca)) == {"review_hash_mismatch"}


def test_the_bundle_s_own_ca_is_not_trusted_by_default(
    ca: CertificateAuthority, doctor: Clinician, pharmacist: Clinician
) -> None:
    bundle = make_bundle(ca, doctor, pharmacist)
    report = verify_export(bundle, at=SOON)
    assert codes(report) == {"ca_not_trusted"}
    trusted = verify_export(bundle, trusted_ca_fingerprints=[fingerprint_sha256(ca.certificate).upper()], at=SOON)
    assert trusted.ok


def test_a_bundle_from_another_hospital_fails_against_our_ca(
    ca: CertificateAuthority, other_ca: CertificateAuthority
) -> None:
    bundle = make_bundle(
        other_ca,
        admit(other_ca, "张伟", "D-001", ClinicianRole.DOCTOR),
        admit(other_ca, "李娜", "P-007", ClinicianRole.PHARMACIST),
    )
    report = check(bundle, ca)
    assert {"doctor_chain_untrusted", "reviewer_chain_untrusted"} <= codes(report)


def test_a_revoked_prescriber_fails(ca: CertificateAuthority, pharmacist: Clinician) -> None:
    dismissed = admit(ca, "黄医生", "D-030", ClinicianRole.DOCTOR)
    bundle = make_bundle(ca, dismissed, pharmacist, revoked=[Revocation(dismissed.certificate.serial_number, NOW)])
    assert codes(check(bundle, ca)) == {"doctor_certificate_revoked"}


def test_something_that_is_not_a_bundle_is_reported_not_raised(ca: CertificateAuthority) -> None:
    assert codes(verify_export({"hello": 1}, trusted_roots=[ca.certificate])) == {"bundle_format"}


def test_a_rejection_needs_reasons() -> None:
    with pytest.raises(InvalidInput, match="reasons"):
        review_payload(
            prescription_payload(),
            decision=ReviewDecision.REJECT,
            reasons=[],
            pharmacist_name="李娜",
            pharmacist_staff_id="P-007",
            reviewed_at=NOW,
            prescription_number="RX-1",
        )


@pytest.mark.parametrize(
    ("reason", "revoked_after", "invalid_after", "valid"),
    [
        (x509.ReasonFlags.privilege_withdrawn, timedelta(minutes=30), None, True),  # suspended after signing
        (x509.ReasonFlags.privilege_withdrawn, timedelta(minutes=30), timedelta(minutes=-1), False),  # invalid before
        (x509.ReasonFlags.superseded, timedelta(minutes=30), None, True),
        (x509.ReasonFlags.privilege_withdrawn, timedelta(0), None, False),  # revoked in the second it signed
        (x509.ReasonFlags.key_compromise, timedelta(minutes=30), None, False),  # a stolen key signs any date
        (x509.ReasonFlags.unspecified, timedelta(minutes=30), None, False),  # no reason given: no benefit of doubt
    ],
)
def test_a_revocation_after_signing_keeps_the_signature_only_when_the_reason_is_not_a_compromise(
    ca: CertificateAuthority, pharmacist: Clinician, reason: x509.ReasonFlags, revoked_after: timedelta,
    invalid_after: timedelta | None, valid: bool,
) -> None:
    """Suspension is not forgery (issue 19): the doctor signed at NOW (the payload's issued_at); the certificate is
    revoked later; the check runs after the revocation (SOON + 1 day), with no `at` chosen by the caller."""
    suspended = admit(ca, "孔医生", "D-040", ClinicianRole.DOCTOR)
    revoked_at = NOW + revoked_after
    revocation = Revocation(suspended.certificate.serial_number, revoked_at, reason,
                            None if invalid_after is None else NOW + invalid_after)
    bundle = make_bundle(ca, suspended, pharmacist, revoked=[revocation])
    report = verify_export(bundle, trusted_roots=[ca.certificate], at=SOON + timedelta(days=1))
    assert ("doctor_certificate_revoked" not in codes(report)) is valid, report.problems
