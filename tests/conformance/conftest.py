from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# FACE-01: a clinician the scenarios admit needs a face the demo has not enrolled (its doctor and pharmacist
# are the two people of ../shared/faces); tests/data/faces holds other people's.
FACES = Path(__file__).resolve().parents[1] / "data" / "faces"


@pytest.fixture(autouse=True, scope="session")
def _new_clinician_face() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        default = f"{FACES / 'alex1.jpg'},{FACES / 'alex2.jpg'}"  # admission photo, verification capture
        patch.setenv("HOSPITAL_CONFORMANCE_NEW_CLINICIAN_FACE",
                     os.environ.get("HOSPITAL_CONFORMANCE_NEW_CLINICIAN_FACE") or default)
        yield
