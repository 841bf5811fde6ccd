"""SM4-CBC with ISO/IEC 7816-4 padding and SM3 digests, as the supervision gateway uses them (SUP-02).

The gateway encrypts the body with SM4-CBC under the hex-decoded appSecret and a fixed IV, padded per
ISO/IEC 7816-4 (0x80 then zeros; a full final block gets a whole padding block), written as lowercase hex.
gmssl's own CBC pads PKCS#7, which the platform rejects, so the padding is ours and the cipher runs on
unpadded whole blocks. Two interchangeable block engines give byte-identical results (tests check every
vector on both): OpenSSL through `cryptography` (the default) and gmssl's single-block SM4 chained by hand
(pure Python, the reference). gmssl takes 1.4 s of CPU for a 50-prescription batch (encrypt, digest,
decrypt; 32 KiB), OpenSSL 1.2 ms: bench/supervision_sm.py.
"""

from __future__ import annotations

import binascii
import functools
from typing import Protocol

from gmssl import sm3 as gmssl_sm3
from gmssl import sm4 as gmssl_sm4

from hospital.core.errors import InvalidInput

__all__ = [
    "BLOCK",
    "IV",
    "CipherError",
    "Engine",
    "decrypt",
    "default_engine",
    "encrypt",
    "engines",
    "pad",
    "parse_key",
    "sm3_hex",
    "unpad",
]

BLOCK = 16
# Fixed IV hard-coded in the official SDK (supervision-gateway.md).
IV = bytes.fromhex("abcd0863ef9087ced675985321bedf67")


class CipherError(InvalidInput):
    """A key, ciphertext or padding that the gateway's cipher cannot accept."""

    title = "Cipher refused the input"


class Engine(Protocol):
    """A block engine: CBC over whole blocks (no padding) and SM3."""

    name: str

    def cbc_encrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes: ...

    def cbc_decrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes: ...

    def sm3(self, data: bytes) -> bytes: ...


class GmsslEngine:
    """gmssl's single-block SM4 chained by hand; gmssl's SM3. Pure Python: slow, the reference."""

    name = "gmssl"

    def cbc_encrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        cipher = gmssl_sm4.CryptSM4()
        cipher.set_key(key, gmssl_sm4.SM4_ENCRYPT)
        out = bytearray()
        previous = iv
        for start in range(0, len(data), BLOCK):
            block = bytes(a ^ b for a, b in zip(data[start : start + BLOCK], previous, strict=True))
            previous = bytes(cipher.one_round(cipher.sk, list(block)))
            out += previous
        return bytes(out)

    def cbc_decrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        cipher = gmssl_sm4.CryptSM4()
        cipher.set_key(key, gmssl_sm4.SM4_DECRYPT)
        out = bytearray()
        previous = iv
        for start in range(0, len(data), BLOCK):
            block = data[start : start + BLOCK]
            plain = cipher.one_round(cipher.sk, list(block))
            out += bytes(a ^ b for a, b in zip(plain, previous, strict=True))
            previous = block
        return bytes(out)

    def sm3(self, data: bytes) -> bytes:
        return bytes.fromhex(gmssl_sm3.sm3_hash(list(data)))


class OpensslEngine:
    """SM4-CBC and SM3 from the OpenSSL bundled with `cryptography`; the padding stays ours."""

    name = "openssl"

    def cbc_encrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        encryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
        return encryptor.update(data) + encryptor.finalize()

    def cbc_decrypt(self, key: bytes, iv: bytes, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        decryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
        return decryptor.update(data) + decryptor.finalize()

    def sm3(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes

        digest = hashes.Hash(hashes.SM3())
        digest.update(data)
        return digest.finalize()


def engines() -> dict[str, Engine]:
    """Every engine usable here, by name (gmssl always; openssl when its OpenSSL has SM4 and SM3)."""
    found: dict[str, Engine] = {"gmssl": GmsslEngine()}
    if _openssl_usable():
        found["openssl"] = OpensslEngine()
    return found


@functools.cache
def _openssl_usable() -> bool:
    try:
        from cryptography.hazmat.backends import default_backend
        from cryptography.hazmat.primitives.ciphers import algorithms, modes

        engine = OpensslEngine()
        supported = default_backend().cipher_supported(algorithms.SM4(bytes(BLOCK)), modes.CBC(bytes(BLOCK)))
        # A known answer, so a provider that is present but wrong is never used (V1 in supervision-gateway.md).
        return bool(supported) and engine.sm3(b"abc").hex().startswith("66c7f0f462eeedd9")
    except Exception:
        return False


def default_engine() -> Engine:
    """OpenSSL when usable, else gmssl; both produce the same bytes."""
    found = engines()
    return found.get("openssl") or found["gmssl"]


def parse_key(app_secret_hex: str) -> bytes:
    """The 16-byte SM4 key from the platform's appSecret (32 hex characters)."""
    if not isinstance(app_secret_hex, str) or len(app_secret_hex) != 2 * BLOCK:
        raise CipherError("appSecret must be 32 hex characters (a 16-byte SM4 key)")
    try:
        return bytes.fromhex(app_secret_hex)
    except ValueError as exc:
        raise CipherError("appSecret must be 32 hex characters (a 16-byte SM4 key)") from exc


def pad(data: bytes) -> bytes:
    """ISO/IEC 7816-4: 0x80, then 0x00 up to the block boundary; always 1 to 16 bytes added."""
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % BLOCK)


def unpad(data: bytes) -> bytes:
    """Remove ISO/IEC 7816-4 padding, refusing anything that is not exactly that padding."""
    if not data or len(data) % BLOCK:
        raise CipherError("bad padding: the decrypted data is not whole blocks")
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) + 1 > BLOCK:
        raise CipherError("bad padding: no ISO/IEC 7816-4 marker (0x80) in the last block")
    return stripped[:-1]


def encrypt(plaintext: bytes, app_secret_hex: str, *, engine: Engine | None = None) -> str:
    """SM4-CBC encrypt `plaintext` under appSecret with the fixed IV; lowercase hex."""
    key = parse_key(app_secret_hex)
    return (engine or default_engine()).cbc_encrypt(key, IV, pad(plaintext)).hex()


def decrypt(ciphertext_hex: str, app_secret_hex: str, *, engine: Engine | None = None) -> bytes:
    """Reverse `encrypt`. Bad hex, a length that is not whole blocks, or bad padding raise CipherError."""
    key = parse_key(app_secret_hex)
    if not ciphertext_hex:
        raise CipherError("ciphertext is empty")
    try:
        data = binascii.unhexlify(ciphertext_hex)
    except (binascii.Error, ValueError) as exc:
        raise CipherError("ciphertext is not hex (expected [0-9a-f] in pairs)") from exc
    if len(data) % BLOCK:
        raise CipherError(f"ciphertext length {len(data)} bytes is not a multiple of {BLOCK}")
    return unpad((engine or default_engine()).cbc_decrypt(key, IV, data))


def sm3_hex(data: bytes | str, *, engine: Engine | None = None) -> str:
    """SM3 digest as lowercase hex; text is hashed as UTF-8. The gateway's headers use `.upper()` of it."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return (engine or default_engine()).sm3(raw).hex()
