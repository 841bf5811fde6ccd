from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwt

from hospital.core.errors import LockedOut, NotAuthenticated, RuleViolation, TooManyAttempts
from hospital.identity import rules
from hospital.identity.tokens import TokenIssuer

pytestmark = pytest.mark.requirement("SEC-01")


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer(ec.generate_private_key(ec.SECP256R1()), ttl_seconds=900)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_token_round_trips_with_role_and_subject(issuer: TokenIssuer) -> None:
    user_id = uuid.uuid4()
    token, expires_in = issuer.issue(user_id, "doctor", datetime.now(UTC))
    principal = issuer.decode(token)
    assert (principal.user_id, principal.role, expires_in) == (user_id, "doctor", 900)


def test_a_token_with_alg_none_is_refused(issuer: TokenIssuer) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": "reference-internet-hospital", "sub": str(uuid.uuid4()), "role": "admin", "iat": now,
              "exp": now + 600, "jti": "x"}
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(NotAuthenticated):
        issuer.decode(forged)


def test_an_hs256_token_made_with_the_public_key_is_refused(issuer: TokenIssuer) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": "reference-internet-hospital", "sub": str(uuid.uuid4()), "role": "admin", "iat": now,
              "exp": now + 600, "jti": "x"}
    # The classic key-confusion attack: sign HMAC with the PEM of the public key as the secret.
    header = _b64({"alg": "HS256", "typ": "JWT"})
    import hashlib
    import hmac

    signing_input = f"{header}.{_b64(claims)}".encode()
    mac = hmac.new(issuer.public_pem.encode(), signing_input, hashlib.sha256).digest()
    forged = signing_input.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(NotAuthenticated):
        issuer.decode(forged)


def test_a_token_signed_by_another_key_is_refused(issuer: TokenIssuer) -> None:
    other = TokenIssuer(ec.generate_private_key(ec.SECP256R1()), ttl_seconds=900)
    token, _ = other.issue(uuid.uuid4(), "admin", datetime.now(UTC))
    with pytest.raises(NotAuthenticated):
        issuer.decode(token)


def test_an_expired_token_is_refused(issuer: TokenIssuer) -> None:
    token, _ = issuer.issue(uuid.uuid4(), "patient", datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(NotAuthenticated):
        issuer.decode(token)


def test_a_token_whose_payload_was_edited_is_refused(issuer: TokenIssuer) -> None:
    token, _ = issuer.issue(uuid.uuid4(), "patient", datetime.now(UTC))
    header, _payload, signature = token.split(".")
    claims = jwt.get_unverified_claims(token)
    claims["role"] = "admin"
    with pytest.raises(NotAuthenticated):
        issuer.decode(f"{header}.{_b64(claims)}.{signature}")


def test_the_fifth_failure_locks_the_account() -> None:
    now = datetime.now(UTC)
    assert rules.failure_locks(4, 5, now, 900) is None
    assert rules.failure_locks(5, 5, now, 900) == now + timedelta(seconds=900)


def test_a_locked_account_is_refused_until_the_lock_expires() -> None:
    now = datetime.now(UTC)
    with pytest.raises(LockedOut):
        rules.check_not_locked(now + timedelta(minutes=1), now)
    rules.check_not_locked(now - timedelta(seconds=1), now)


def test_weak_passwords_are_refused() -> None:
    for weak in ("short1", "lettersonly", "12345678901"):
        with pytest.raises(RuleViolation):
            rules.check_password_strength(weak)
    rules.check_password_strength("good-pass-2026")


def test_the_login_rate_lets_the_allowance_through_and_refuses_the_next_attempt_with_its_wait() -> None:
    for attempt in range(1, 4):
        rules.check_login_rate(attempt, 3, retry_after=42)
    with pytest.raises(TooManyAttempts) as refused:
        rules.check_login_rate(4, 3, retry_after=42)
    assert (refused.value.rule_id, refused.value.extra["retry_after"]) == ("SEC-01", 42)
