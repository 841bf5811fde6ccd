"""Prescription signing throughput: our canonical JSON + ES256 JWS against bare `cryptography` ECDSA P-256.

Run: PYTHONPATH=. python bench/rx_sign.py [--rounds 5]

Same process, same prescription payload (~0.8 KB canonical JSON), same key. Bare = `key.sign(payload_bytes)` /
`public_key.verify(der, payload_bytes)`. Ours:
  sign            Signer.sign(payload): canonical JSON, header reused, ECDSA, DER -> r||s, base64url
  sign one-shot   sign(payload, key, chain): also builds the Signer (key/cert match, header) each time
  verify          SignatureVerifier.verify with the CA's CRL: header/chain checked once per certificate, then per
                  token time validity, revocation lookup, signature and canonical-payload check
  verify no CRL   the same without a revocation list
  verify one-shot verify(...): new verifier each call, so the chain and CRL signatures are verified every time
python-jose figures (jws.sign over the canonical bytes; get_unverified_header + jws.verify, no chain check) are
shown for the choice explained in hospital/signing/jws.py.

Rates are CPU time of this process (time.process_time), best of the rounds, rounds interleaved: the machine is
shared, and preemption by other work should not count against either side.
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jws as jose_jws
from jose.backends.cryptography_backend import CryptographyECKey

from hospital.signing.ca import ClinicianIdentity, ClinicianRole, create_root_ca, generate_clinician_key
from hospital.signing.canonical import canonical_json
from hospital.signing.jws import SignatureVerifier, Signer, sign, verify

GOAL = 0.70


def prescription() -> dict[str, object]:
    return {
        "prescription_number": "RX-20250301-000123",
        "issued_at": "2025-03-01T16:00:00+08:00",
        "prescriber": {"name": "张伟", "staff_id": "D-001", "department": "全科"},
        "patient": {"name": "王小明", "age": 34, "sex": "male", "id_hash": "ab" * 32},
        "diagnosis": [{"code": "J06.9", "text": "急性上呼吸道感染"}],
        "items": [
            {"drug_code": f"X{i:03d}", "drug": "阿莫西林胶囊", "strength": "0.25 g", "dose": "0.5 g",
             "frequency": "tid", "days": 5, "quantity": 30, "unit_price": "12.50"}
            for i in range(3)
        ],
        "total_amount": "37.50",
    }


def review() -> dict[str, object]:
    return {
        "prescription_sha256": "5f" * 32,
        "prescription_number": "RX-20250301-000123",
        "decision": "approve",
        "reasons": [],
        "pharmacist": {"name": "李娜", "staff_id": "P-007"},
        "reviewed_at": "2025-03-01T16:10:00+08:00",
    }


def rate(operation: Callable[[], object], count: int) -> float:
    start = time.process_time()
    for _ in range(count):
        operation()
    return count / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds

    now = datetime.now(UTC)
    authority = create_root_ca("示范互联网医院", now=now - timedelta(days=1))
    key = generate_clinician_key()
    identity = ClinicianIdentity("张伟", "D-001", ClinicianRole.DOCTOR)
    certificate = authority.issue_clinician_certificate(
        key.public_key(), identity, now=now - timedelta(hours=1), credential_expires_at=now + timedelta(days=365)
    )
    chain = [certificate, authority.certificate]
    crl = authority.build_crl([], now=now - timedelta(hours=1), crl_number=1)
    payload, review_payload = prescription(), review()
    data, review_data = canonical_json(payload), canonical_json(review_payload)
    ecdsa = ec.ECDSA(hashes.SHA256())
    public_key = key.public_key()
    der_signature = key.sign(data, ecdsa)
    review_der_signature = key.sign(review_data, ecdsa)

    signer = Signer(key, chain)
    token, review_token = signer.sign(payload), signer.sign(review_payload)
    verifier = SignatureVerifier([authority.certificate])
    assert verifier.verify(token, crl_or_revoked_serials=crl, at=now).payload == payload

    jose_private, jose_public = CryptographyECKey(key, "ES256"), CryptographyECKey(public_key, "ES256")
    x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in chain]
    jose_headers = {"x5c": x5c, "kid": verifier.verify(token, crl_or_revoked_serials=None, at=now).signer.fingerprint}
    jose_token = jose_jws.sign(data, jose_private, headers=jose_headers, algorithm="ES256")

    def jose_verify() -> object:
        jose_jws.get_unverified_header(jose_token)
        return jose_jws.verify(jose_token, jose_public, algorithms=["ES256"])

    cases: dict[str, tuple[Callable[[], object], int]] = {
        "bare_sign": (lambda: key.sign(data, ecdsa), 2000),
        "sign": (lambda: signer.sign(payload), 2000),
        "sign_one_shot": (lambda: sign(payload, key, chain), 1000),
        "jose_sign": (
            lambda: jose_jws.sign(canonical_json(payload), jose_private, headers=jose_headers, algorithm="ES256"), 1000
        ),
        "bare_verify": (lambda: public_key.verify(der_signature, data, ecdsa), 1000),
        "verify": (lambda: verifier.verify(token, crl_or_revoked_serials=crl, at=now), 1000),
        "verify_no_crl": (lambda: verifier.verify(token, crl_or_revoked_serials=None, at=now), 1000),
        "verify_one_shot": (
            lambda: verify(token, trusted_roots=[authority.certificate], crl_or_revoked_serials=crl, at=now), 150
        ),
        "jose_verify": (jose_verify, 1000),
        "review_bare_sign": (lambda: key.sign(review_data, ecdsa), 2000),
        "review_sign": (lambda: signer.sign(review_payload), 2000),
        "review_bare_verify": (lambda: public_key.verify(review_der_signature, review_data, ecdsa), 1000),
        "review_verify": (lambda: verifier.verify(review_token, crl_or_revoked_serials=crl, at=now), 1000),
    }
    best = dict.fromkeys(cases, 0.0)
    for _ in range(rounds):
        for name, (operation, count) in cases.items():
            best[name] = max(best[name], rate(operation, count))

    print(f"prescription {len(data)} bytes, review {len(review_data)} bytes canonical JSON; token {len(token)} chars")
    print(f"best of {rounds} rounds, CPU time of this process")
    for name, value in best.items():
        prefix = "review_" if name.startswith("review_") else ""
        base = best[f"{prefix}bare_sign"] if "sign" in name else best[f"{prefix}bare_verify"]
        print(f"  {name:<19} {value:>9.0f} /s   {value / base:6.1%} of bare")
    figures = {name: round(value) for name, value in best.items()}
    ratios = {
        "sign_ratio": round(best["sign"] / best["bare_sign"], 3),
        "sign_one_shot_ratio": round(best["sign_one_shot"] / best["bare_sign"], 3),
        "verify_ratio": round(best["verify"] / best["bare_verify"], 3),
        "verify_no_crl_ratio": round(best["verify_no_crl"] / best["bare_verify"], 3),
        "verify_one_shot_ratio": round(best["verify_one_shot"] / best["bare_verify"], 3),
        "jose_sign_ratio": round(best["jose_sign"] / best["bare_sign"], 3),
        "jose_verify_ratio": round(best["jose_verify"] / best["bare_verify"], 3),
        "review_sign_ratio": round(best["review_sign"] / best["review_bare_sign"], 3),
        "review_verify_ratio": round(best["review_verify"] / best["review_bare_verify"], 3),
    }
    met = ratios["sign_ratio"] >= GOAL and ratios["verify_ratio"] >= GOAL
    print(f"goal >= {GOAL:.0%} of bare for sign and verify: {'met' if met else 'NOT met'}")
    summary = {"bench": "rx_sign", "payload_bytes": len(data), "review_payload_bytes": len(review_data)}
    print(json.dumps({**summary, "per_second": figures, **ratios, "goal": GOAL, "goal_met": met}))


if __name__ == "__main__":
    main()
