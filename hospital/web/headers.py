"""The security headers of every answer, in one place and with no imports: the app's `before_send` hook
(hospital.web.http.security_headers) and the start-up answers (hospital.web.boot) send the same ones."""

from __future__ import annotations

__all__ = ["CONTENT_SECURITY_POLICY", "HSTS", "SCHEMA_POLICY", "fixed_security_headers"]

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                           "media-src 'self' blob: mediastream:; connect-src 'self'; font-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The OpenAPI browser (/schema/swagger …) loads its viewer from a CDN: no script policy there, still never framed.
SCHEMA_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
HSTS = "max-age=31536000; includeSubDomains"


def fixed_security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries whatever its path; HSTS only when the hospital is reached over TLS."""
    common = [(b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff"),
              (b"x-frame-options", b"DENY"), (b"cross-origin-opener-policy", b"same-origin"),
              (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=(), payment=()")]
    if hsts:
        common.append((b"strict-transport-security", HSTS.encode()))
    return common
