"""The supervision gateway protocol: SM4/SM3 (`sm`), the signed envelope (`envelope`), the methods and their
fields (`methods`), the answer's classification (`responses`) and the async client (`client`)."""

from __future__ import annotations

from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.methods import missing_required
from connectors.supervision.gateway.responses import (
    Accepted,
    FixData,
    Outcome,
    Retry,
    classify,
)
from connectors.supervision.gateway.sm import CipherError, decrypt, encrypt, sm3_hex

__all__ = [
    "Accepted",
    "CipherError",
    "FixData",
    "GatewayClient",
    "Outcome",
    "Retry",
    "classify",
    "decrypt",
    "encrypt",
    "missing_required",
    "sm3_hex",
]
