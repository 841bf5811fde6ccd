"""Trusted time for signatures: RFC 3161 time-stamp tokens, a small time-stamping authority, and their check.

Every clinician signature gets a token from a TSA over the SHA-256 of the JWS (its ASCII bytes): a CMS SignedData
whose content is a TSTInfo (the imprint, the TSA's time `genTime`, a serial, the request's nonce), signed by a
certificate with the critical extended key usage id-kp-timeStamping. A verifier that trusts the TSA's CA then
knows the JWS existed at `genTime` and checks the clinician's certificate *at that time*: a prescription keeps
verifying years after its certificate expired (long-term validation), which the hospital's own claim of time
(the payload's `issued_at`) could not prove.

`TimestampAuthority` is the small TSA shipped for the demo and the tests (its certificate issued by the hospital
CA, `authority.hospital_tsa`); production points `HOSPITAL_TSA_URL` at a licensed TSA and `HttpTimestamps`
asks it over HTTP (RFC 3161 section 3.4: POST application/timestamp-query). Built on asn1crypto (the CMS and TSP
structures) and cryptography (ECDSA).
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from hospital.signing.chain import CertificateFacts, RevocationList, TrustStore
from hospital.signing.errors import SignatureInvalid

__all__ = [
    "TIMESTAMP_QUERY",
    "TIMESTAMP_REPLY",
    "TSA_POLICY",
    "HttpTimestamps",
    "LocalTimestamps",
    "TimestampAuthority",
    "TimestampInvalid",
    "Timestamps",
    "timestamp_request",
    "token_from_response",
    "token_time",
    "verify_timestamp",
]

# The demo TSA's policy: an OID under 2.25 (a UUID as an integer, X.667), so it needs no registration.
TSA_POLICY = "2.25.222428735364380431427931095474389383571"
TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"


class TimestampInvalid(Exception):
    """A time-stamp token that proves nothing: why, in plain words."""


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _imprint(data: bytes) -> tsp.MessageImprint:
    return tsp.MessageImprint({"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                               "hashed_message": _sha256(data)})


def timestamp_request(data: bytes, nonce: int | None = None) -> bytes:
    """A TimeStampReq (DER) for the SHA-256 of `data`, asking for the TSA's certificate in the token."""
    request = {"version": "v1", "message_imprint": _imprint(data), "cert_req": True}
    if nonce is not None:
        request["nonce"] = nonce
    return tsp.TimeStampReq(request).dump()


def token_from_response(response: bytes, data: bytes, nonce: int | None = None) -> bytes:
    """The token (a CMS ContentInfo, DER) of a granted TimeStampResp for `data`; TimestampInvalid otherwise."""
    try:
        parsed = tsp.TimeStampResp.load(response)
        status = parsed["status"]["status"].native
        token = parsed["time_stamp_token"]
        if status not in ("granted", "granted_with_mods") or token.native is None:
            raise TimestampInvalid(f"the TSA refused the request ({status})")
        info = _tst_info(token)
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampInvalid(f"the TSA's answer is not a time-stamp response: {exc}") from None
    if info["message_imprint"]["hashed_message"].native != _sha256(data):
        raise TimestampInvalid("the TSA stamped another document")
    if nonce is not None and info["nonce"].native != nonce:
        raise TimestampInvalid("the TSA's answer is for another request (nonce)")
    return token.dump()  # type: ignore[no-any-return]


def _tst_info(token: cms.ContentInfo) -> tsp.TSTInfo:
    if token["content_type"].native != "signed_data":
        raise TimestampInvalid("a time-stamp token is CMS SignedData")
    encapsulated = token["content"]["encap_content_info"]
    if encapsulated["content_type"].native != "tst_info":
        raise TimestampInvalid("the token's content is not a TSTInfo")
    return tsp.TSTInfo.load(encapsulated["content"].contents)


def token_time(token: bytes) -> datetime:
    """The genTime a token states (unchecked: `verify_timestamp` checks it)."""
    try:
        return _tst_info(cms.ContentInfo.load(token))["gen_time"].native  # type: ignore[no-any-return]
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampInvalid(f"not a time-stamp token: {exc}") from None


class TimestampAuthority:
    """The small TSA: answers TimeStampReqs with tokens signed by its key (demo and tests, not a licensed TSA)."""

    def __init__(self, certificate: x509.Certificate, private_key: ec.EllipticCurvePrivateKey,
                 chain: list[x509.Certificate]) -> None:
        try:
            usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        except x509.ExtensionNotFound:
            usage = None
        if usage is None or not usage.critical or list(usage.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
            raise ValueError("a TSA certificate has the critical extended key usage timeStamping only")
        self.certificate = certificate
        self._key = private_key
        self._certificates = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in [certificate, *chain]]

    def respond(self, request: bytes, now: datetime) -> bytes:
        """A TimeStampResp (DER) for a TimeStampReq (DER): granted with a token, or rejection for bad requests."""
        try:
            parsed = tsp.TimeStampReq.load(request)
            imprint = parsed["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            nonce = parsed["nonce"].native
        except (ValueError, TypeError, KeyError):
            return self._rejection("bad_data_format")
        if algorithm != "sha256" or not isinstance(digest, bytes) or len(digest) != 32:
            return self._rejection("bad_alg")
        token = self.stamp_digest(digest, now, nonce)
        return tsp.TimeStampResp({"status": {"status": "granted"},
                                  "time_stamp_token": cms.ContentInfo.load(token)}).dump()

    def stamp(self, data: bytes, now: datetime) -> bytes:
        """A token for `data` directly (the in-process client)."""
        return self.stamp_digest(_sha256(data), now, None)

    def stamp_digest(self, digest: bytes, now: datetime, nonce: int | None) -> bytes:
        info = {"version": "v1", "policy": TSA_POLICY,
                "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
                "serial_number": secrets.randbits(63) | 1, "gen_time": now.astimezone(UTC),
                "accuracy": {"seconds": 1}}
        if nonce is not None:
            info["nonce"] = nonce
        content = tsp.TSTInfo(info).dump()
        leaf = self._certificates[0]
        signed_attributes = cms.CMSAttributes([
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [_sha256(content)]}),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [tsp.SigningCertificateV2({
                "certs": [tsp.ESSCertIDv2({"hash_algorithm": {"algorithm": "sha256"},
                                           "cert_hash": _sha256(leaf.dump())})]})]}),
        ])
        signature = self._key.sign(signed_attributes.dump(), ec.ECDSA(hashes.SHA256()))
        signer = cms.SignerInfo({
            "version": "v1",
            "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
                "issuer": leaf.issuer, "serial_number": leaf.serial_number})}),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": signed_attributes,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
        })
        signed_data = cms.SignedData({
            "version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "tst_info", "content": core.ParsableOctetString(content)},
            "certificates": self._certificates, "signer_infos": [signer],
        })
        return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()  # type: ignore[no-any-return]

    @staticmethod
    def _rejection(failure: str) -> bytes:
        return tsp.TimeStampResp({"status": {"status": "rejection", "fail_info": {failure}}}).dump()  # type: ignore[no-any-return]


class Timestamps(Protocol):
    """Where tokens come from: `stamp(data)` returns a token (DER) over `data`; TimestampInvalid if refused."""

    @property
    def source(self) -> str: ...

    def stamp(self, data: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class LocalTimestamps:
    """The hospital's own small TSA, in process (demo, tests): no URL configured."""

    authority: TimestampAuthority
    clock: Callable[[], datetime]
    source: str = "local"

    def stamp(self, data: bytes) -> bytes:
        return self.authority.stamp(data, self.clock())


@dataclass(frozen=True, slots=True)
class HttpTimestamps:
    """A TSA at a URL (RFC 3161 3.4). Synchronous: a signature waits for its token (at most `timeout` seconds)."""

    url: str
    timeout: float = 5.0

    @property
    def source(self) -> str:
        return self.url

    def stamp(self, data: bytes) -> bytes:
        if urlsplit(self.url).scheme not in ("http", "https"):  # RFC 3161 3.4 over HTTP; never file: or custom schemes
            raise TimestampInvalid(f"the TSA URL {self.url!r} is not http or https (HOSPITAL_TSA_URL)")
        nonce = secrets.randbits(63)
        request = urllib.request.Request(self.url, data=timestamp_request(data, nonce), method="POST",
                                         headers={"Content-Type": TIMESTAMP_QUERY, "Accept": TIMESTAMP_REPLY})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310: scheme checked above
                body = response.read(1_000_000)
        except OSError as exc:
            raise TimestampInvalid(f"the TSA at {self.url} did not answer: {exc}") from None
        return token_from_response(body, data, nonce)


def verify_timestamp(token: bytes, data: bytes, trust: TrustStore,
                     crl: x509.CertificateRevocationList | None) -> datetime:
    """The time a valid token proves `data` existed at; TimestampInvalid says why a token proves nothing.

    Checks: the imprint is the SHA-256 of `data`; the CMS signature over the signed attributes (content type,
    message digest of the TSTInfo) by the certificate the signer identifier names; that certificate is the TSA's
    (critical EKU timeStamping only), issued by a trusted CA, valid at genTime and not revoked at genTime.
    """
    try:
        content_info = cms.ContentInfo.load(token)
        info = _tst_info(content_info)
        signed_data = content_info["content"]
        (signer,) = signed_data["signer_infos"]
        tst_bytes = signed_data["encap_content_info"]["content"].contents
        gen_time = info["gen_time"].native
        algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
        hashed = info["message_imprint"]["hashed_message"].native
        attributes = {a["type"].native: a["values"][0].native for a in signer["signed_attrs"]}
        signed_bytes = signer["signed_attrs"].untag().dump()
        signature = signer["signature"].native
        sid = signer["sid"].chosen
        certificates = [c.chosen for c in signed_data["certificates"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TimestampInvalid(f"not a time-stamp token: {exc}") from None
    if algorithm != "sha256" or hashed != _sha256(data):
        raise TimestampInvalid("the token stamps another document (message imprint)")
    if attributes.get("content_type") != "tst_info" or attributes.get("message_digest") != _sha256(tst_bytes):
        raise TimestampInvalid("the token's signed attributes do not cover its content")
    leaf = next((c for c in certificates if c.issuer == sid["issuer"]
                 and c.serial_number == sid["serial_number"].native), None)
    if leaf is None:
        raise TimestampInvalid("the token does not carry the TSA's certificate")
    tsa_certificate = x509.load_der_x509_certificate(leaf.dump())
    public_key = tsa_certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise TimestampInvalid("the TSA's key is not an EC key")
    try:
        public_key.verify(signature, signed_bytes, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise TimestampInvalid("the token's signature does not verify: changed after stamping?") from None
    try:
        usage = tsa_certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.critical or ExtendedKeyUsageOID.TIME_STAMPING not in usage.value:
        raise TimestampInvalid("the token is signed by a certificate that is not a TSA's (timeStamping)")
    others = [x509.load_der_x509_certificate(c.dump()) for c in certificates if c is not leaf]
    try:
        path = trust.build_path(tuple(CertificateFacts.of(c) for c in [tsa_certificate, *others]))
        path.check_validity(gen_time)
        if crl is not None:
            RevocationList.from_crl(crl, path.certificates[1].certificate).check(path, gen_time, signed_at=gen_time)
    except SignatureInvalid as exc:
        raise TimestampInvalid(f"the TSA's certificate: {exc.detail}") from None
    return gen_time  # type: ignore[no-any-return]
