"""Why a signature was refused: one error class with a machine-readable reason code (RX-05, RX-06)."""

from __future__ import annotations

import enum
from typing import Any

from hospital.core.errors import InvalidInput

__all__ = ["ReasonCode", "SignatureInvalid"]


class ReasonCode(enum.StrEnum):
    """The precise reason a JWS does not verify; stable strings a pharmacy or the regulator can match on."""

    MALFORMED = "malformed"
    BAD_ALGORITHM = "bad_algorithm"
    CHAIN_UNTRUSTED = "chain_untrusted"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_NOT_YET_VALID = "not_yet_valid"
    CERTIFICATE_REVOKED = "certificate_revoked"
    CERTIFICATE_NOT_FOR_SIGNING = "certificate_not_for_signing"
    CRL_INVALID = "crl_invalid"
    BAD_SIGNATURE = "bad_signature"
    PAYLOAD_NOT_CANONICAL = "payload_not_canonical"


class SignatureInvalid(InvalidInput):
    """A signed document does not verify; `reason_code` says which check failed.

    A HospitalError through InvalidInput (422): area errors specialise a mapped class, not the bare root.
    """

    title = "Signature invalid"

    def __init__(self, reason_code: ReasonCode, message: str, **extra: Any) -> None:
        super().__init__(message, reason_code=str(reason_code), **extra)
        self.reason_code = reason_code

    def __str__(self) -> str:
        return f"{self.reason_code}: {self.detail}"
