"""A face pool for the test suite that remembers results by input hash.

It runs the real engine (dlib via face_recognition, in-process) on the real photos in ../shared/faces; it only
avoids recomputing the same photo against the same template in every test of every database.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from hospital.biometrics.pool import FacePool
from hospital.biometrics.settings import FaceSettings
from hospital.biometrics.values import FaceTemplate, Verification

__all__ = ["EXTRA_FACES", "RememberingFacePool", "face_bytes"]

# More people than ../shared/faces holds (two): one face, one clinician (FACE-01) means every clinician a test
# admits needs a face of their own. See tests/data/faces/README.md for where they come from.
EXTRA_FACES = Path(__file__).parent / "data" / "faces"


def face_bytes(name: str) -> bytes:
    """A photo by file name: tests/data/faces/ first, then the shared faces (../shared/faces)."""
    extra = EXTRA_FACES / name
    if extra.is_file():
        return extra.read_bytes()
    shared = Path(os.environ.get("HOSPITAL_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
    return (shared / "faces" / name).read_bytes()


def _key(*parts: bytes | str | None) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else (part or b""))
        digest.update(b"\x00")
    return digest.hexdigest()


class RememberingFacePool(FacePool):
    def __init__(self) -> None:
        super().__init__(FaceSettings(workers=0))
        self._results: dict[str, Any] = {}
        self.computed = 0

    async def _remember(self, key: str, compute: Any) -> Any:
        if key not in self._results:
            self.computed += 1
            try:
                self._results[key] = ("ok", await compute())
            except Exception as exc:
                self._results[key] = ("raise", exc)
        kind, value = self._results[key]
        if kind == "raise":
            raise value
        return value

    async def encode_enrolment(self, image_bytes: bytes, content_type: str | None) -> FaceTemplate:
        return await self._remember(_key("enrol", image_bytes, content_type),  # type: ignore[no-any-return]
                                    lambda: super(RememberingFacePool, self).encode_enrolment(image_bytes, content_type))

    async def verify(self, template_bytes: bytes, probe_bytes: bytes, content_type: str | None) -> Verification:
        return await self._remember(_key("verify", template_bytes, probe_bytes, content_type),  # type: ignore[no-any-return]
                                    lambda: super(RememberingFacePool, self).verify(template_bytes, probe_bytes, content_type))
