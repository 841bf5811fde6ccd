"""ICE servers from plain settings: STUN, and TURN with time-limited credentials (TURN REST API).

coturn's `use-auth-secret` checks `username = "<expiry unix time>:<user>"` and
`credential = base64(HMAC-SHA1(static-auth-secret, username))`, and refuses the username after its expiry
(draft-uberti-behave-turn-rest-00 §2.2). No long-lived TURN password ever reaches a browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer

__all__ = ["IceSettings", "browser_ice_servers", "hospital_rtc_configuration", "turn_rest_credentials"]

_STUN_SCHEMES = ("stun:", "stuns:")
_TURN_SCHEMES = ("turn:", "turns:")


@dataclass(frozen=True, slots=True)
class IceSettings:
    """STUN/TURN for the consultation peers; `turn_secret` equals coturn's `static-auth-secret`."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    # Long enough for a visit with its reconnections: coturn refuses allocation refreshes after expiry.
    turn_ttl_s: int = 8 * 3600
    # Whether the hospital's own peer gathers relay candidates too (needed only when it sits behind NAT).
    hospital_uses_turn: bool = False

    def __post_init__(self) -> None:
        for url in self.stun_urls:
            if not url.startswith(_STUN_SCHEMES):
                raise ValueError(f"not a STUN URL: {url!r}")
        for url in self.turn_urls:
            if not url.startswith(_TURN_SCHEMES):
                raise ValueError(f"not a TURN URL: {url!r}")
        if self.turn_urls and not self.turn_secret:
            raise ValueError("TURN URLs need turn_secret (coturn's static-auth-secret)")
        if self.turn_ttl_s <= 0:
            raise ValueError("turn_ttl_s must be positive")


def turn_rest_credentials(secret: str, user: str, *, ttl_s: int, now: float | None = None) -> tuple[str, str]:
    """Username and credential valid until `now + ttl_s`; `user` is an opaque id, never a name (SEC-01)."""
    if ":" in user:
        raise ValueError("the TURN user id must not contain ':'")
    expiry = int(time.time() if now is None else now) + ttl_s
    username = f"{expiry}:{user}" if user else str(expiry)
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def browser_ice_servers(settings: IceSettings, user: str, *, now: float | None = None) -> list[dict[str, Any]]:
    """The `iceServers` list for the browser's `RTCPeerConnection`, TURN credentials minted for `user`."""
    servers: list[dict[str, Any]] = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and settings.turn_secret:
        username, credential = turn_rest_credentials(settings.turn_secret, user, ttl_s=settings.turn_ttl_s, now=now)
        servers.append({"urls": list(settings.turn_urls), "username": username, "credential": credential})
    return servers


def hospital_rtc_configuration(settings: IceSettings, *, now: float | None = None) -> RTCConfiguration:
    """Configuration of the hospital's own peers; an explicit empty list keeps aiortc off public STUN.

    aiortc uses one STUN and one TURN server at most: the first of each is taken.
    """
    servers: list[RTCIceServer] = []
    if settings.stun_urls:
        servers.append(RTCIceServer(urls=settings.stun_urls[0]))
    if settings.hospital_uses_turn and settings.turn_urls and settings.turn_secret:
        username, credential = turn_rest_credentials(settings.turn_secret, "hospital-peer", ttl_s=settings.turn_ttl_s, now=now)
        servers.append(RTCIceServer(urls=settings.turn_urls[0], username=username, credential=credential))
    # Default bundle policy: aiortc 1.16 as answerer drops the shared transport under MAX_BUNDLE when the
    # offer's m-line order differs from the transceivers' (no candidates in the answer).
    return RTCConfiguration(iceServers=servers)
