"""Clinicians' signing devices and signatures (RX-05, FACE-03): one import for the areas that sign.

The hospital holds no clinician private key (电子签名法 第十三条: 签署时电子签名制作数据仅由电子签名人控制).
Split by sub-area: `hospital.signing.credentials` (the CA's side: devices registered, listed, revoked and
reported, the CRL, JWKS and export checks) and `hospital.signing.device_signing` (a signing act: the payload
prepared, the device's JWS verified byte for byte, time-stamped). The hospital CA itself is
`hospital.signing.authority`.
"""

from __future__ import annotations

from hospital.signing.authority import (
    HospitalSigning,
    current_crl,
    hospital_signing,
    published_crl,
    signing_of,
    start_signing,
)
from hospital.signing.credentials import (
    CredentialView,
    clinician_credentials,
    device_nonce,
    device_view,
    devices_of,
    jwks,
    on_suspension_changed,
    register_device,
    revoke_credentials,
    revoke_device,
    staff_devices,
    stamp_time,
    verify_bundle,
    verify_signature,
)
from hospital.signing.device_signing import (
    AcceptedSignature,
    DeviceSignature,
    device_serial,
    requested_payload,
    require_device_signature,
    timestamp_tokens,
)

__all__ = [
    "AcceptedSignature",
    "CredentialView",
    "DeviceSignature",
    "HospitalSigning",
    "clinician_credentials",
    "current_crl",
    "device_nonce",
    "device_serial",
    "device_view",
    "devices_of",
    "hospital_signing",
    "jwks",
    "on_suspension_changed",
    "published_crl",
    "register_device",
    "requested_payload",
    "require_device_signature",
    "revoke_credentials",
    "revoke_device",
    "signing_of",
    "staff_devices",
    "stamp_time",
    "start_signing",
    "timestamp_tokens",
    "verify_bundle",
    "verify_signature",
]

