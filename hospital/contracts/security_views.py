"""Wire schemas of the security area's HTTP answers (hospital/security/*/api.py), beside its event payloads in
security.py."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["ScanResult"]


class ScanResult(msgspec.Struct, kw_only=True):
    """`POST /api/security/scan`: the audit chain walked and the trail's leak patterns looked for (SEC-02)."""

    entries_checked: int
    chain_breaks: list[dict[str, Any]]  # each break as `verify_chain` names it (sequence, expected, found …)
    findings: int
    opened: list[str]  # incidents opened
    updated: list[str]  # incidents updated
