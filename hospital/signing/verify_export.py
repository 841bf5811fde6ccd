"""Offline verification of a prescription export bundle (RX-05, RX-06): every problem found, in plain words.

The bundle's own CA certificate is never trusted by itself being there: the verifier passes the hospital's CA
certificate (`trusted_roots`) or its SHA-256 fingerprint, obtained out of band.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from hospital.core.errors import InvalidInput
from hospital.signing.ca import ClinicianRole, ClinicianSubject
from hospital.signing.canonical import canonical_json
from hospital.signing.errors import ReasonCode, SignatureInvalid
from hospital.signing.export import EXPORT_FORMATS, ReviewDecision, export_format_of
from hospital.signing.jws import SignatureVerifier, VerifiedSignature
from hospital.signing.pem import certificate_from_pem, crl_from_pem, fingerprint_sha256
from hospital.signing.timestamps import TimestampInvalid, verify_timestamp

__all__ = ["ExportReport", "Problem", "verify_export"]

_REVIEW_FIELDS = ("prescription_sha256", "prescription_number", "decision", "reasons", "pharmacist", "reviewed_at")


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason the bundle does not prove a valid, approved prescription."""

    code: str
    message: str


@dataclass(frozen=True)
class ExportReport:
    """The outcome: `ok` only when there is no problem. Warnings do not make it fail."""

    checked_at: datetime
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()
    prescription_number: str | None = None
    prescriber: ClinicianSubject | None = None
    reviewer: ClinicianSubject | None = None
    decision: str | None = None
    ca_fingerprint: str | None = None
    timestamped_at: Mapping[str, datetime] = field(default_factory=dict)  # who -> the time their token proves

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_at": self.checked_at.isoformat(),
            "prescription_number": self.prescription_number,
            "decision": self.decision,
            "prescriber": self.prescriber.as_dict() if self.prescriber else None,
            "reviewer": self.reviewer.as_dict() if self.reviewer else None,
            "ca_fingerprint": self.ca_fingerprint,
            "timestamped_at": {who: at.isoformat() for who, at in self.timestamped_at.items()},
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "warnings": [{"code": w.code, "message": w.message} for w in self.warnings],
        }


def verify_export(
    bundle: Mapping[str, Any],
    *,
    trusted_roots: Sequence[x509.Certificate] | None = None,
    trusted_ca_fingerprints: Collection[str] = (),
    at: datetime | None = None,
) -> ExportReport:
    """Check a bundle offline at `at` (default now): signatures, chain, revocation, roles, review binding."""
    check = _ExportCheck(at or datetime.now(UTC))
    check.run(bundle, list(trusted_roots or ()), {_normalise_fingerprint(f) for f in trusted_ca_fingerprints})
    return ExportReport(
        checked_at=check.at,
        problems=tuple(check.problems),
        warnings=tuple(check.warnings),
        prescription_number=check.prescription_number,
        prescriber=check.prescription.signer if check.prescription else None,
        reviewer=check.review.signer if check.review else None,
        decision=check.decision,
        ca_fingerprint=check.ca_fingerprint,
        timestamped_at=dict(check.signed_at),
    )


class _ExportCheck:
    """The checks of one bundle, collecting every problem rather than stopping at the first."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.prescription: VerifiedSignature | None = None
        self.review: VerifiedSignature | None = None
        self.prescription_number: str | None = None
        self.decision: str | None = None
        self.ca_fingerprint: str | None = None
        self.signed_at: dict[str, datetime] = {}  # the time each signature's token proves

    def problem(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message))

    def run(self, bundle: Mapping[str, Any], roots: list[x509.Certificate], fingerprints: set[str]) -> None:
        if not isinstance(bundle, Mapping) or bundle.get("format") not in EXPORT_FORMATS:
            self.problem("bundle_format", "not a prescription export bundle (expected format "
                                          f"{' or '.join(map(repr, EXPORT_FORMATS))})")
            return
        prescription = bundle.get("prescription")
        if isinstance(prescription, dict) and bundle.get("format") != export_format_of(prescription):
            # The version is read from the signed payload itself, so a relabelled bundle is caught, not misread.
            self.problem("bundle_format", f"a {prescription.get('format') or 'version 1'} prescription travels as "
                                          f"{export_format_of(prescription)!r}, not {bundle.get('format')!r}")
        doctor_token, review_token = bundle.get("prescription_jws"), bundle.get("review_jws")
        if not isinstance(prescription, dict) or not isinstance(doctor_token, str) or not isinstance(review_token, str):
            self.problem("bundle_incomplete", "the bundle lacks the prescription or one of its two signatures")
            return
        number = prescription.get("prescription_number")
        self.prescription_number = number if isinstance(number, str) else None
        roots = self._trusted_roots(bundle, roots, fingerprints)
        crl = self._revocation_list(bundle)
        verifier = SignatureVerifier(roots)
        stamps = bundle.get("timestamps")
        stamps = stamps if isinstance(stamps, Mapping) else {}
        self.prescription = self._verify(verifier, doctor_token, crl, "doctor", stamps.get("prescription_jws"))
        self.review = self._verify(verifier, review_token, crl, "reviewer", stamps.get("review_jws"))
        self._check_prescription_is_what_was_signed(prescription)
        self._check_review(prescription)
        self._check_review_covers_jws(doctor_token)
        self._check_roles()

    def _trusted_roots(
        self, bundle: Mapping[str, Any], roots: list[x509.Certificate], fingerprints: set[str]
    ) -> list[x509.Certificate]:
        bundle_ca: x509.Certificate | None = None
        try:
            bundle_ca = certificate_from_pem(str(bundle.get("ca_certificate_pem") or ""))
            self.ca_fingerprint = fingerprint_sha256(bundle_ca)
        except InvalidInput:
            self.warnings.append(Problem("bundle_ca_unreadable", "the bundle's CA certificate is missing or unreadable"))
        if bundle_ca is not None and self.ca_fingerprint in fingerprints:
            roots.append(bundle_ca)
        if not roots:
            self.problem(
                "ca_not_trusted",
                f"the bundle's CA certificate (SHA-256 {self.ca_fingerprint}) is not trusted: pass the hospital's "
                "CA certificate or its fingerprint obtained from the hospital itself",
            )
            # Keep checking against the bundle's CA so the report still lists every other problem.
            roots = [bundle_ca] if bundle_ca is not None else []
        return roots

    def _revocation_list(self, bundle: Mapping[str, Any]) -> x509.CertificateRevocationList | None:
        try:
            crl = crl_from_pem(str(bundle.get("crl_pem") or ""))
        except InvalidInput:
            self.problem("no_revocation_list", "the bundle has no readable revocation list: revocation is unchecked")
            return None
        next_update = crl.next_update_utc
        if next_update is not None and next_update < self.at:
            self.warnings.append(
                Problem("revocation_list_stale", f"the revocation list was due for renewal at {next_update.isoformat()}")
            )
        return crl

    def _verify(
        self, verifier: SignatureVerifier, token: str, crl: x509.CertificateRevocationList | None, who: str,
        stamp: object = None,
    ) -> VerifiedSignature | None:
        """With a valid time-stamp token the signature is checked at the token's time (the certificate valid then,
        not revoked before then): long-term validation. Without one, at `at` (now by default)."""
        at, signed_at = self.at, claimed_signing_time(token)
        if stamp is None:
            self.warnings.append(Problem(f"{who}_no_timestamp", f"the {who}'s signature has no time-stamp token: "
                                         "it is checked at the time of checking, not when it was made"))
        else:
            try:
                if not isinstance(stamp, str):
                    raise TimestampInvalid("a time-stamp token is a base64 string")
                at = signed_at = verify_timestamp(base64.b64decode(stamp, validate=True), token.encode("ascii"),
                                                  verifier.trust, crl)
                self.signed_at[who] = at
            except (TimestampInvalid, ValueError, binascii.Error) as exc:
                self.problem(f"{who}_timestamp_invalid", f"the {who}'s time-stamp token proves nothing: {exc}")
        try:
            return verifier.verify(token, crl_or_revoked_serials=crl, at=at, signed_at=signed_at)
        except SignatureInvalid as exc:
            self.problem(f"{who}_{exc.reason_code}", _explain(who, exc))
            return None

    def _check_prescription_is_what_was_signed(self, prescription: dict[str, Any]) -> None:
        if self.prescription is None:
            return
        try:
            same = canonical_json(prescription) == self.prescription.payload_bytes
        except InvalidInput as exc:
            self.problem(
                "prescription_altered", f"the prescription in the bundle cannot be what the doctor signed: {exc.detail}"
            )
            return
        if not same:
            where = "; ".join(_differences(self.prescription.payload, prescription)) or "formatting"
            self.problem(
                "prescription_altered",
                f"doctor signature does not match the prescription in the bundle: changed after signing at {where}",
            )

    def _check_review(self, prescription: dict[str, Any]) -> None:
        if self.review is None:
            return
        review = self.review.payload
        missing = [name for name in _REVIEW_FIELDS if name not in review]
        if missing:
            self.problem("review_incomplete", f"the signed review lacks {', '.join(missing)}")
            return
        self.decision = str(review["decision"])
        signed = self.prescription.payload_bytes if self.prescription else None
        try:
            actual = hashlib.sha256(signed or canonical_json(prescription)).hexdigest()
        except InvalidInput:
            actual = "(not computable)"
        if review["prescription_sha256"] != actual:
            self.problem(
                "review_hash_mismatch",
                f"the review approves prescription bytes with SHA-256 {review['prescription_sha256']}, "
                f"but the prescription hashes to {actual}: the review is for another version",
            )
        if self.prescription_number is not None and review["prescription_number"] != self.prescription_number:
            self.problem(
                "review_number_mismatch",
                f"the review is for prescription {review['prescription_number']}, not {self.prescription_number}",
            )
        if review["decision"] != ReviewDecision.APPROVE:
            given = review["reasons"] if isinstance(review["reasons"], list) else [review["reasons"]]
            reasons = "; ".join(str(r) for r in given) or "none given"
            self.problem(
                "review_not_approved",
                f"the pharmacist's decision is {review['decision']!r} (reasons: {reasons}); "
                "the prescription is not in effect (RX-06)",
            )
        pharmacist = review["pharmacist"]
        named = pharmacist.get("staff_id") if isinstance(pharmacist, dict) else None
        if named != self.review.signer.staff_id:
            self.problem(
                "review_signer_mismatch",
                f"the review names pharmacist {named!r} but is signed by staff {self.review.signer.staff_id!r}",
            )

    def _check_review_covers_jws(self, doctor_token: str) -> None:
        """A review signed over the doctor's JWS itself (device keys, issue 19) must name exactly this one."""
        if self.review is None or "prescription_jws" not in self.review.payload:
            return
        if self.review.payload["prescription_jws"] != doctor_token:
            self.problem("review_jws_mismatch", "the review was signed over another doctor's signature than the "
                                                "one in the bundle (RX-06)")

    def _check_roles(self) -> None:
        doctor = self.prescription.signer if self.prescription else None
        reviewer = self.review.signer if self.review else None
        if doctor is not None and doctor.role != ClinicianRole.DOCTOR:
            self.problem(
                "prescriber_not_doctor",
                f"the prescription is signed with a {doctor.role or 'role-less'} certificate of {doctor.name} "
                f"(staff {doctor.staff_id}), not a doctor's (RX-05)",
            )
        if reviewer is not None and reviewer.role != ClinicianRole.PHARMACIST:
            self.problem(
                "reviewer_not_pharmacist",
                f"the review is signed with a {reviewer.role or 'role-less'} certificate of {reviewer.name} "
                f"(staff {reviewer.staff_id}), not a pharmacist's (RX-06)",
            )
        if doctor is not None and reviewer is not None and (
            doctor.staff_id == reviewer.staff_id or doctor.fingerprint == reviewer.fingerprint
        ):
            self.problem(
                "reviewer_is_prescriber",
                f"the review is signed by the prescriber {doctor.name} (staff {doctor.staff_id}); "
                "a prescription must be reviewed by another person, a pharmacist (RX-06)",
            )


# Where each signed document states when it was signed (the prescription, the review).
_SIGNING_TIME_FIELDS = ("issued_at", "reviewed_at", "signed_at")


def claimed_signing_time(token: str) -> datetime | None:
    """The time the signed payload itself states, read before the signature is checked.

    It is the signer's own claim (the hospital's clock), used only for revocations whose reason says the key was
    not compromised (`RevocationList.check`): the signature check that follows covers the claim, so a changed
    time fails as a changed byte. A timestamp token (RFC 3161) is stronger evidence where present.
    """
    try:
        segment = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (AttributeError, IndexError, ValueError, binascii.Error):
        return None
    if not isinstance(payload, dict):
        return None
    for name in _SIGNING_TIME_FIELDS:
        value = payload.get(name)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return None
            return moment if moment.tzinfo is not None else None
    return None


def _explain(who: str, exc: SignatureInvalid) -> str:
    signature = "doctor signature" if who == "doctor" else "pharmacist's review signature"
    if exc.reason_code is ReasonCode.BAD_SIGNATURE:
        return f"{signature} does not match the payload it carries: byte changed after signing?"
    return f"{signature} refused ({exc.reason_code}): {exc.detail}"


def _differences(signed: Any, shown: Any, path: str = "$", limit: int = 5) -> list[str]:
    """Where the bundle's copy differs from the signed payload, as `path: signed -> bundle` lines."""
    if isinstance(signed, dict) and isinstance(shown, dict):
        found: list[str] = []
        for key in sorted(set(signed) | set(shown)):
            if len(found) >= limit:
                break
            if key not in shown:
                found.append(f"{path}.{key} removed")
            elif key not in signed:
                found.append(f"{path}.{key} added")
            else:
                found.extend(_differences(signed[key], shown[key], f"{path}.{key}", limit - len(found)))
        return found
    if isinstance(signed, list) and isinstance(shown, list) and len(signed) == len(shown):
        found = []
        for index, (a, b) in enumerate(zip(signed, shown, strict=True)):
            if len(found) >= limit:
                break
            found.extend(_differences(a, b, f"{path}[{index}]", limit - len(found)))
        return found
    if signed == shown and type(signed) is type(shown):
        return []
    return [f"{path} signed as {signed!r}, bundle has {shown!r}"]


def _normalise_fingerprint(fingerprint: str) -> str:
    return fingerprint.replace(":", "").replace(" ", "").lower()
