"""When a clinician may sign (RX-05). Pure: the credential's facts in, RuleViolation out."""

from __future__ import annotations

from datetime import datetime

from hospital.core.errors import RuleViolation
from hospital.core.rule_registry import rule

__all__ = ["check_signing_credential"]


@rule("RX-05", "A clinician signs only with their own certificate, unrevoked and valid at the moment of signing",
      source="PD 17 (电子签名); 电子签名法 第十三条 (签署时电子签名制作数据仅由电子签名人控制)")
def check_signing_credential(valid_from: datetime | None, valid_until: datetime | None, now: datetime) -> None:
    """`valid_from`/`valid_until` of the clinician's active certificate, or None when they hold none."""
    if valid_from is None or valid_until is None:
        raise RuleViolation("RX-05", "you hold no valid signing certificate; an administrator issues one")
    if not valid_from <= now <= valid_until:
        raise RuleViolation("RX-05", f"your signing certificate is valid {valid_from.isoformat()} to "
                                     f"{valid_until.isoformat()}; an administrator renews it")
