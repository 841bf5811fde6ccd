"""The signed envelope (V4–V7) and the platform's check of it, each refusal with its gateway code."""

from __future__ import annotations

import pytest

from connectors.supervision.gateway.envelope import (
    BadParameters,
    BadSignature,
    GatewayRefusal,
    KeyMismatch,
    MemoryNonceStore,
    ReplayedNonce,
    RequestExpired,
    SignedRequest,
    build_request,
    build_upload_request,
    sign,
    signing_string,
    verify_request,
)
from connectors.supervision.gateway.sm import encrypt, sm3_hex

SECRET = "bbf1dd188b8b4629853f06f118d11e4a"
KEY = "ngari5fd5ad2196834aa7"
NONCE = "8d708068-0a36-47d3-8ff4-011fdace7d63"
TS = 1718185594026
V4 = "F7DCA75A3D6083A0E4FD0BA219FFE8AC10E35AE45FD8A91F90A9CDAB5A0ED056"
V5 = (
    "x-ca-key:ngari5fd5ad2196834aa7&x-ca-nonce:8d708068-0a36-47d3-8ff4-011fdace7d63&x-ca-timestamp:1718185594026"
    "&x-content-md5:F7DCA75A3D6083A0E4FD0BA219FFE8AC10E35AE45FD8A91F90A9CDAB5A0ED056"
    "&x-service-id:his.provinceDataUploadService&x-service-method:uploadDrugCatalogue"
)
V6 = "A07C0B67CE2996DF9416A5BE7EB7F4E8EAF40F31D46423A1FA9ECEA188C7627A"
V7 = "x-ca-key,x-ca-nonce,x-ca-timestamp,x-content-md5,x-service-id,x-service-method"
WINDOW = 15 * 60 * 1000


def vector_request() -> SignedRequest:
    return build_request("uploadDrugCatalogue", [1], app_key=KEY, app_secret=SECRET, nonce=NONCE, timestamp_ms=TS)


def check(request: SignedRequest, *, now: int = TS, key: str = KEY, nonces: MemoryNonceStore | None = None,
          secret: str | None = SECRET) -> list[object]:
    verified = verify_request(request.headers, request.body, app_key=key, app_secret=secret,
                              nonces=nonces or MemoryNonceStore(WINDOW), window_ms=WINDOW, now_ms=now)
    return verified.records


def test_the_sdk_vector_request_has_the_sdk_body_digest_and_signature() -> None:
    request = vector_request()
    assert request.path == "/openapi/api"
    assert request.body == "49a9a1cb6403aa7ca5d7be3287b0dc6b"
    assert request.headers["X-Content-MD5"] == V4
    assert signing_string(request.headers) == V5
    assert request.headers["X-Ca-Signature"] == V6
    assert request.headers["X-Ca-Signature-Headers"] == V7
    assert request.headers["X-Service-Id"] == "his.provinceDataUploadService"
    assert request.headers["Content-Type"] == "application/json"


def test_signature_is_sm3_of_the_signing_string_in_uppercase() -> None:
    assert sm3_hex(V5).upper() == V6


def test_a_fresh_request_carries_a_uuid4_nonce_and_the_time_in_milliseconds() -> None:
    first = build_request("uploadDrugCatalogue", [], app_key=KEY, app_secret=SECRET)
    second = build_request("uploadDrugCatalogue", [], app_key=KEY, app_secret=SECRET)
    assert first.nonce != second.nonce
    assert len(first.nonce) == 36 and first.nonce[14] == "4"
    assert len(first.headers["X-Ca-Timestamp"]) == 13


def test_the_platform_accepts_the_vector_request_and_decodes_its_records() -> None:
    assert check(vector_request()) == [1]


def test_header_names_are_matched_without_regard_to_case() -> None:
    request = vector_request()
    lowered = SignedRequest(request.path, {k.lower(): v for k, v in request.headers.items()}, request.body)
    assert check(lowered) == [1]


def test_a_changed_body_fails_the_content_digest_with_40010() -> None:
    request = vector_request()
    tampered = SignedRequest(request.path, request.headers, encrypt(b"[2]", SECRET))
    with pytest.raises(BadSignature, match="X-Content-MD5") as refused:
        check(tampered)
    assert refused.value.code == 40010


def test_a_changed_signed_header_fails_the_signature_with_40010() -> None:
    request = vector_request()
    headers = {**request.headers, "X-Service-Method": "uploadRecipeIndicators"}
    with pytest.raises(BadSignature, match="X-Ca-Signature"):
        check(SignedRequest(request.path, headers, request.body))


def test_a_signature_header_list_other_than_the_sdk_one_is_refused() -> None:
    request = vector_request()
    headers = {**request.headers, "X-Ca-Signature-Headers": "x-ca-key,x-ca-nonce"}
    with pytest.raises(BadSignature):
        check(SignedRequest(request.path, headers, request.body))


def test_another_units_key_is_refused_with_40004() -> None:
    with pytest.raises(KeyMismatch) as refused:
        check(vector_request(), key="someone-else")
    assert refused.value.code == 40004


@pytest.mark.parametrize("offset_ms", [WINDOW + 1, -(WINDOW + 1)])
def test_a_timestamp_outside_the_window_is_refused_with_40011(offset_ms: int) -> None:
    with pytest.raises(RequestExpired) as refused:
        check(vector_request(), now=TS + offset_ms)
    assert refused.value.code == 40011


def test_a_timestamp_at_the_edge_of_the_window_is_accepted() -> None:
    assert check(vector_request(), now=TS + WINDOW) == [1]


def test_a_replayed_nonce_is_refused() -> None:
    nonces = MemoryNonceStore(WINDOW)
    check(vector_request(), nonces=nonces)
    with pytest.raises(ReplayedNonce, match="already used"):
        check(vector_request(), nonces=nonces, now=TS + 1000)


def test_a_forged_request_does_not_use_up_the_nonce() -> None:
    nonces = MemoryNonceStore(WINDOW)
    request = vector_request()
    forged = SignedRequest(request.path, {**request.headers, "X-Ca-Signature": "0" * 64}, request.body)
    with pytest.raises(BadSignature):
        check(forged, nonces=nonces)
    assert check(request, nonces=nonces) == [1]


@pytest.mark.parametrize("header", ["X-Ca-Nonce", "X-Ca-Signature", "X-Content-MD5", "X-Service-Method"])
def test_a_missing_header_is_bad_parameters_40001(header: str) -> None:
    request = vector_request()
    headers = {k: v for k, v in request.headers.items() if k != header}
    with pytest.raises(BadParameters, match=header) as refused:
        check(SignedRequest(request.path, headers, request.body))
    assert refused.value.code == 40001


def test_a_body_under_another_secret_is_bad_parameters() -> None:
    request = build_request("uploadDrugCatalogue", [1], app_key=KEY, app_secret="00" * 16, nonce=NONCE,
                            timestamp_ms=TS)
    with pytest.raises(BadParameters, match="decrypted"):
        check(request)


def test_a_payload_that_is_not_an_array_is_bad_parameters() -> None:
    request = sign("uploadDrugCatalogue", encrypt(b'{"a":1}', SECRET), app_key=KEY, nonce=NONCE, timestamp_ms=TS)
    with pytest.raises(BadParameters, match="array"):
        check(request)


def test_every_refusal_is_a_gateway_refusal_with_its_code() -> None:
    codes = {cls.__name__: cls.code for cls in (BadParameters, KeyMismatch, BadSignature, RequestExpired, ReplayedNonce)}
    assert codes == {"BadParameters": 40001, "KeyMismatch": 40004, "BadSignature": 40010, "RequestExpired": 40011,
                     "ReplayedNonce": 40012}
    assert not issubclass(ReplayedNonce, RequestExpired)  # a replay is not a clock out of step
    assert all(issubclass(cls, GatewayRefusal) for cls in (BadParameters, KeyMismatch, BadSignature))


def test_the_upload_variant_is_plaintext_json_digested_as_sent() -> None:
    files = [{"fileName": "门诊病历.png", "contentBase64": "aGVsbG8=", "size": 5, "type": "png"}]
    request = build_upload_request(files, app_key=KEY, nonce=NONCE, timestamp_ms=TS)
    assert request.path == "/openapi/api/uploadFile"
    assert request.headers["X-Service-Method"] == "uploadFile"
    assert request.body == '[{"fileName":"门诊病历.png","contentBase64":"aGVsbG8=","size":5,"type":"png"}]'
    assert request.headers["X-Content-MD5"] == sm3_hex(request.body).upper()
    assert check(request, secret=None) == files
