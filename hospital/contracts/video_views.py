"""Wire schemas of the video call's HTTP answers (hospital/video/api.py), field for field as the call page, the
patient's visit page and the doctor's queue read them (issue 17, "Typed contracts").

With media workers (HOSPITAL_MEDIA_WORKERS) the same handlers answer on the worker holding the call and the app
passes their bytes on (hospital/video/routing.py); the doctor's waiting list is merged from every worker, row by
row, so `CallWaiting` is also what the merge reads (`waiting_since`)."""

from __future__ import annotations

from typing import Literal

import msgspec

CallRole = Literal["patient", "doctor"]

__all__ = ["CallRole", "CallStatusView", "CallWaiting", "IceServer", "IceServers", "SdpAnswer", "WaitingRoomView"]


class CallStatusView(msgspec.Struct, kw_only=True):
    """The call as its participant sees it: the visit's state in the database, and the live room on the media hub."""

    visit_id: str
    state: str  # the visit's state (requested, accepted, in_progress …)
    mode: str  # video | text
    paused: bool  # the face watch paused the call until the doctor re-verifies (FACE-02), as stored
    role: CallRole  # the caller's side of the call
    connected: list[CallRole]  # the roles connected to the media hub now, sorted
    live_paused: bool  # the live room is paused (the media hub's view of `paused`)


class WaitingRoomView(msgspec.Struct, kw_only=True):
    """The visit's place in its schedule's queue (REV-06) and whether the doctor is in the call, since when."""

    visit_id: str
    state: str
    mode: str
    queue_number: int
    ahead: int  # every visit before it not yet ended
    position: int | None  # 1 + the visits before it the doctor has not yet taken; null once it is taken itself
    with_doctor_ahead: int
    connected: list[CallRole]
    doctor_in_call: bool
    doctor_joined_at: str | None  # ISO 8601 with offset, while the doctor is connected
    patient_waiting_since: str | None  # ISO 8601 with offset, while the patient waits for the doctor


class IceServer(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One entry of the browser's `RTCPeerConnection` `iceServers`: STUN has `urls` only (no null username, which
    a browser would read as the string "null"); TURN carries time-limited credentials (TURN REST API)."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServers(msgspec.Struct, kw_only=True):
    ice_servers: list[IceServer]


class SdpAnswer(msgspec.Struct, kw_only=True):
    """The hospital's complete SDP answer to the browser's offer (its candidates included)."""

    type: Literal["answer"]
    sdp: str


class CallWaiting(msgspec.Struct, kw_only=True):
    """A visit of the doctor's whose patient waits in the call for them."""

    visit_id: str
    queue_number: int
    waiting_since: str  # ISO 8601 with offset
    waited_s: float  # seconds, rounded to 0.1
