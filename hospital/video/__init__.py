"""The hospital's WebRTC media peer for video consultations (FACE-02 live watch, REC-02 recordings).

Browser ↔ hospital peer ↔ browser. `MediaHub` is the entry point; the signalling layer, the audit trail,
the blob store and the face pool are injected as callbacks (see `contracts`).
"""

from __future__ import annotations

from hospital.video.contracts import (
    ROLES,
    CheckFace,
    FaceCheck,
    OnEvent,
    Role,
    StoreRecording,
    VideoSettings,
)
from hospital.video.facewatch import FaceCheckRecord
from hospital.video.hub import MediaHub
from hospital.video.ice import (
    IceSettings,
    browser_ice_servers,
    hospital_rtc_configuration,
    turn_rest_credentials,
)
from hospital.video.room import ConsultRoom

__all__ = [
    "ROLES",
    "CheckFace",
    "ConsultRoom",
    "FaceCheck",
    "FaceCheckRecord",
    "IceSettings",
    "MediaHub",
    "OnEvent",
    "Role",
    "StoreRecording",
    "VideoSettings",
    "browser_ice_servers",
    "hospital_rtc_configuration",
    "turn_rest_credentials",
]
