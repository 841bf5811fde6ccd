"""The engine loads only the models it uses (issue 19): a single-frame verification never loads the 68-point
landmark model (≈100 MB, only liveness bursts use it) nor face_recognition's CNN detector; a burst loads the
68-point model. Run in a fresh interpreter, so nothing another test loaded counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, sys
from pathlib import Path
from hospital.biometrics import engine
from hospital.biometrics.images import decode_rgb
from tests.bursts import burst

faces = Path(sys.argv[1])
def rgb(data):
    return decode_rgb(data, None, max_bytes=10**8, max_pixels=10**9, long_side=1024)
template = engine.encode_enrolment(rgb((faces / "obama.jpg").read_bytes()))
engine.verify(template, rgb((faces / "obama2.jpg").read_bytes()))
single = {"landmarks_68": engine._landmarks_68.cache_info().currsize,
          "face_recognition": "face_recognition" in sys.modules}
frames = burst((faces / "obama2.jpg").read_bytes(), ["closer"], per_pose=1, seed=1)
engine.observe_burst(template, [rgb(f) for f in frames])
print(json.dumps({"single": single, "burst_landmarks_68": engine._landmarks_68.cache_info().currsize,
                  "face_recognition": "face_recognition" in sys.modules}))
"""


def test_a_single_frame_verification_loads_neither_the_68_point_model_nor_face_recognition() -> None:
    shared = Path(os.environ.get("HOSPITAL_SHARED_DIR", REPO.parent / "shared"))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(shared / "faces")], cwd=REPO, capture_output=True,
                            text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["single"] == {"landmarks_68": 0, "face_recognition": False}
    assert loaded["burst_landmarks_68"] == 1 and loaded["face_recognition"] is False
