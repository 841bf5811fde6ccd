"""SM4-CBC / ISO 7816-4 / SM3 against the official SDK's vectors (supervision-gateway.md), on every engine."""

from __future__ import annotations

import pytest
from gmssl import sm4 as gmssl_sm4
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.supervision.gateway import sm
from connectors.supervision.gateway.sm import (
    CipherError,
    Engine,
    decrypt,
    encrypt,
    engines,
    pad,
    sm3_hex,
    unpad,
)

SECRET = "bbf1dd188b8b4629853f06f118d11e4a"
V2 = "49a9a1cb6403aa7ca5d7be3287b0dc6b"
V8 = "a9f4a4c761cf5110a2adbd8e1cdb79b025db47d12e40bf0803278053400e9f40"

ENGINES = pytest.mark.parametrize("engine", list(engines().values()), ids=lambda e: e.name)


def test_both_engines_are_available_here() -> None:
    assert set(engines()) == {"gmssl", "openssl"}


@ENGINES
def test_sm3_of_abc_matches_v1(engine: Engine) -> None:
    assert sm3_hex("abc", engine=engine).upper() == "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0"


@ENGINES
def test_body_of_a_one_element_array_matches_v2(engine: Engine) -> None:
    assert encrypt(b"[1]", SECRET, engine=engine) == V2


@ENGINES
def test_content_digest_of_the_v2_ciphertext_matches_v4(engine: Engine) -> None:
    assert sm3_hex(V2, engine=engine).upper() == "F7DCA75A3D6083A0E4FD0BA219FFE8AC10E35AE45FD8A91F90A9CDAB5A0ED056"


@ENGINES
def test_a_whole_block_plaintext_gets_a_whole_padding_block_v8(engine: Engine) -> None:
    assert encrypt(b"0123456789abcdef", SECRET, engine=engine) == V8


@ENGINES
def test_decrypt_reverses_the_vectors(engine: Engine) -> None:
    assert decrypt(V2, SECRET, engine=engine) == b"[1]"
    assert decrypt(V8, SECRET, engine=engine) == b"0123456789abcdef"


def test_ciphertext_is_lowercase_hex() -> None:
    body = encrypt("[{\"drname\":\"氨氯地平片\"}]".encode(), SECRET)
    assert body == body.lower()
    assert len(body) % 32 == 0


@pytest.mark.parametrize(
    ("length", "padded_length"), [(0, 16), (1, 16), (15, 16), (16, 32), (17, 32), (31, 32), (32, 48)]
)
def test_padding_always_adds_one_to_sixteen_bytes_to_the_block_boundary(length: int, padded_length: int) -> None:
    padded = pad(b"x" * length)
    assert len(padded) == padded_length
    assert padded[length] == 0x80
    assert set(padded[length + 1 :]) <= {0}
    assert unpad(padded) == b"x" * length


def test_an_empty_plaintext_encrypts_to_one_block() -> None:
    assert len(encrypt(b"", SECRET)) == 32
    assert decrypt(encrypt(b"", SECRET), SECRET) == b""


def test_a_plaintext_ending_in_0x80_and_zeros_survives_the_round_trip() -> None:
    tricky = b"abc\x80\x00\x00"
    assert decrypt(encrypt(tricky, SECRET), SECRET) == tricky


def test_a_pkcs7_body_from_gmssl_own_cbc_is_refused_as_bad_padding() -> None:
    cipher = gmssl_sm4.CryptSM4()
    cipher.set_key(bytes.fromhex(SECRET), gmssl_sm4.SM4_ENCRYPT)
    pkcs7_body = cipher.crypt_cbc(sm.IV, b"[1]").hex()
    assert pkcs7_body != V2
    with pytest.raises(CipherError, match="padding"):
        decrypt(pkcs7_body, SECRET)


def test_the_wrong_secret_is_refused_as_bad_padding() -> None:
    with pytest.raises(CipherError, match="padding"):
        decrypt(V8, "00112233445566778899aabbccddeeff")


@pytest.mark.parametrize(
    ("ciphertext", "complaint"),
    [
        ("", "empty"),
        ("zz" * 16, "not hex"),
        (V2[:-1], "not hex"),
        (V2 + " ", "not hex"),
        (V2[:30], "multiple of 16"),
        (V2 + "00", "multiple of 16"),
    ],
)
def test_decrypt_refuses_malformed_ciphertext_with_a_clear_message(ciphertext: str, complaint: str) -> None:
    with pytest.raises(CipherError, match=complaint):
        decrypt(ciphertext, SECRET)


@pytest.mark.parametrize("secret", ["", "bbf1dd18", SECRET + "00", "g" * 32])
def test_a_secret_that_is_not_32_hex_characters_is_refused(secret: str) -> None:
    with pytest.raises(CipherError, match="32 hex"):
        encrypt(b"[1]", secret)


def test_unpad_refuses_a_marker_outside_the_last_block() -> None:
    with pytest.raises(CipherError, match="padding"):
        unpad(b"\x80" + b"\x00" * 31)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=80))
def test_engines_agree_and_round_trip(plaintext: bytes) -> None:
    found = engines()
    ciphertexts = {name: encrypt(plaintext, SECRET, engine=engine) for name, engine in found.items()}
    assert len(set(ciphertexts.values())) == 1
    assert decrypt(ciphertexts["gmssl"], SECRET, engine=found["gmssl"]) == plaintext
    assert sm3_hex(plaintext, engine=found["gmssl"]) == sm3_hex(plaintext)
