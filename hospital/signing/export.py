"""A self-contained prescription export: what a pharmacy or the regulator needs to verify it offline (RX-05/06).

The bundle is one JSON object:

    format               "hospital-rx-export/2" for a prescription signed as `hospital-rx/2` (the readable payload
                         of issue 19: patient by 病历号 and ID-number hash, doctor by 执业证书编码, drugs by ATC
                         and 国药准字 with structured strength and pack, times with their offset);
                         "hospital-rx-export/1" for one signed before (its payload is version 1)
    exported_at          ISO 8601 time of the export
    prescription         the prescription payload, as the doctor signed it
    prescription_jws     the doctor's compact JWS over the canonical JSON of `prescription`
    review_jws           the pharmacist's JWS over the review payload (see `review_payload`)
    ca_certificate_pem   the hospital CA certificate (informative: the verifier decides whom to trust)
    crl_pem              the hospital CA's current revocation list
    timestamps           {"prescription_jws": token, "review_jws": token}: each signature's RFC 3161 time-stamp
                         token (base64 DER), which proves when it was made (long-term validation)

`hospital.signing.verify_export.verify_export` checks it.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography import x509

from hospital.core.errors import InvalidInput
from hospital.signing.canonical import payload_sha256
from hospital.signing.pem import certificate_to_pem, crl_to_pem

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_FORMATS",
    "EXPORT_FORMAT_1",
    "ReviewDecision",
    "build_export_bundle",
    "bundle_to_json",
    "export_format_of",
    "review_payload",
]

EXPORT_FORMAT = "hospital-rx-export/2"
EXPORT_FORMAT_1 = "hospital-rx-export/1"
EXPORT_FORMATS = (EXPORT_FORMAT_1, EXPORT_FORMAT)  # what `hospital rx verify` accepts
_PAYLOAD_FORMAT_2 = "hospital-rx/2"  # hospital.prescriptions.writing.documents.PAYLOAD_FORMAT (signing is below it)


def export_format_of(prescription: Mapping[str, Any]) -> str:
    """The bundle format for a signed payload: its version decides, since the signature fixes its bytes."""
    return EXPORT_FORMAT if prescription.get("format") == _PAYLOAD_FORMAT_2 else EXPORT_FORMAT_1


class ReviewDecision(enum.StrEnum):
    """The pharmacist's decision (审方, RX-06); only `approve` puts a prescription into effect."""

    APPROVE = "approve"
    REJECT = "reject"


def review_payload(
    prescription: dict[str, Any],
    *,
    decision: ReviewDecision,
    reasons: Sequence[str],
    pharmacist_name: str,
    pharmacist_staff_id: str,
    reviewed_at: datetime,
    prescription_number: str,
    prescription_jws: str | None = None,
) -> dict[str, Any]:
    """The payload a pharmacist signs: it names the exact prescription bytes by their SHA-256 and, with
    `prescription_jws`, carries the doctor's signature itself, so the review covers who signed, not only what
    (RX-06)."""
    if reviewed_at.tzinfo is None:
        raise InvalidInput("reviewed_at must be timezone-aware")
    if decision is ReviewDecision.REJECT and not reasons:
        raise InvalidInput("a rejected prescription goes back to the doctor with reasons (RX-06)")
    return {
        "prescription_sha256": payload_sha256(prescription),
        "prescription_number": prescription_number,
        "decision": str(decision),
        "reasons": list(reasons),
        "pharmacist": {"name": pharmacist_name, "staff_id": pharmacist_staff_id},
        "reviewed_at": reviewed_at.isoformat(),
        **({"prescription_jws": prescription_jws} if prescription_jws is not None else {}),
    }


def build_export_bundle(
    *,
    prescription: dict[str, Any],
    prescription_jws: str,
    review_jws: str,
    ca_certificate: x509.Certificate,
    crl: x509.CertificateRevocationList,
    exported_at: datetime,
    timestamps: Mapping[str, bytes] | None = None,
) -> dict[str, Any]:
    """The export bundle for one reviewed prescription (see the module docstring for its fields)."""
    stamped = {name: base64.b64encode(token).decode("ascii") for name, token in (timestamps or {}).items()}
    return {
        "format": export_format_of(prescription),
        "exported_at": exported_at.isoformat(),
        "prescription": prescription,
        "prescription_jws": prescription_jws,
        "review_jws": review_jws,
        "ca_certificate_pem": certificate_to_pem(ca_certificate),
        "crl_pem": crl_to_pem(crl),
        **({"timestamps": stamped} if stamped else {}),
    }


def bundle_to_json(bundle: dict[str, Any]) -> bytes:
    """Readable UTF-8 JSON for the file handed over; verification never depends on this layout."""
    return json.dumps(bundle, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
