"""Signing as a clinician's device does it (RX-05): one helper for every test that signs.

The hospital holds no clinician key. A test registers a device key (hospital.signing.device.DeviceKey) for the
clinician whose headers it uses, and `signed_post` makes the two trips every signing act takes: the first names
the device and is answered 428 with the payload; the device signs those bytes; the second sends the JWS. The
keys live here, in the test process, by device id, as they would in the browser's IndexedDB.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from litestar.testing import AsyncTestClient

from hospital.core.errors import SignatureRequired
from hospital.signing.device import DeviceKey
from hospital.signing.service import DeviceSignature

T = TypeVar("T")

__all__ = ["DEVICE_KEYS", "device_signed", "register_device", "sign_prepared", "signed_post", "signing_device"]

DEVICE_KEYS: dict[str, tuple[DeviceKey, list[str]]] = {}  # device id -> the key and its certificate chain (PEM)


async def register_device(client: AsyncTestClient[Any], headers: dict[str, str], *, name: str = "test device",
                          key: DeviceKey | None = None) -> Any:
    """Register a new device key for the clinician of `headers` (needs a fresh face); the raw answer."""
    key = key or DeviceKey.generate()
    nonce = await client.post("/api/me/signing-devices/nonce", headers=headers)
    if nonce.status_code != 200:
        return nonce
    answer = await client.post("/api/me/signing-devices/", headers=headers, json={
        "name": name, "public_key": key.public_key_b64(), "nonce": nonce.json()["nonce"],
        "proof": key.prove(nonce.json()["nonce"])})
    if answer.status_code == 201:
        DEVICE_KEYS[answer.json()["device_id"]] = (key, answer.json()["certificate_chain_pem"])
    return answer


async def signing_device(client: AsyncTestClient[Any], headers: dict[str, str]) -> str | None:
    """An active device of this clinician whose key this process holds, registered now if there is none;
    None when the caller may not hold one (not a doctor or pharmacist, or no fresh face)."""
    mine = await client.get("/api/me/signing-devices/", headers=headers)
    if mine.status_code != 200:
        return None
    held = [d for d in mine.json() if d["status"] == "active" and d["device_id"] in DEVICE_KEYS]
    if held:
        return str(max(held, key=lambda d: d["not_before"])["device_id"])  # the newest
    registered = await register_device(client, headers)
    return str(registered.json()["device_id"]) if registered.status_code == 201 else None


def sign_prepared(problem: dict[str, Any]) -> dict[str, Any]:
    """The `signature` object of the second trip, from the 428 answer of the first."""
    key, chain = DEVICE_KEYS[problem["device_id"]]
    return {"device_id": problem["device_id"], "signing_request": problem["signing_request"],
            "jws": key.sign(problem["payload_b64"], chain)}


async def signed_post(client: AsyncTestClient[Any], url: str, headers: dict[str, str],
                      json: dict[str, Any] | None = None) -> Any:
    """POST a signing act and sign what the hospital prepared with this clinician's device; the final answer
    (a refusal before the 428, e.g. FACE-03 or RX-07, is returned as it is)."""
    body = dict(json or {})
    if "signature" not in body:
        device = await signing_device(client, headers)
        if device is not None:
            body["signature"] = {"device_id": device}
    first = await client.post(url, headers=headers, json=body)
    if first.status_code != 428:
        return first
    return await client.post(url, headers=headers, json={**body, "signature": sign_prepared(first.json())})


async def device_signed(act: Callable[[DeviceSignature], Awaitable[T]], device_id: str) -> DeviceSignature:
    """For a test calling a service directly: run `act` once unsigned (it refuses with SignatureRequired and
    leaves nothing), and return the signature of its prepared payload, to call it again with."""
    try:
        await act(DeviceSignature(uuid.UUID(device_id)))
    except SignatureRequired as required:
        second = sign_prepared(required.extra)
        return DeviceSignature(uuid.UUID(device_id), second["signing_request"], second["jws"])
    raise AssertionError("the act signed without the device")
