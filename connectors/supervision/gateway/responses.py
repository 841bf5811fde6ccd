"""The platform's answer, classified for the dispatcher: accepted, retry later, or fix the data first.

`{"code": 200, "body": {"msgCode": 200, "msg": "..."}}`: `code` is the gateway's (40001 bad parameters,
40004 key mismatch, 40007 IP not allowed, 40010 bad signature, 40011 expired, -1 busy), `body.msgCode` the
business answer (200 accepted, -99 required fields empty with `msg` listing them joined by `|`, -98 no
data, -1 rejected with a reason). The simulator adds what the SDK leaves unsaid: a refusal's `body.data` names
each refused record (`index` in the batch, `businessId`, its `fields`), kept in `FixData.records`; a replayed
nonce is 40012, not 40011. Retry: busy, 40011, 40012 (the client signs each attempt with a fresh nonce),
timeouts, 5xx. Everything else waits for a person:
-99, business -1 and 40001 need the data fixed; 40004, 40007 and 40010 need the configuration fixed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONFIGURATION_CODES",
    "Accepted",
    "FixData",
    "Outcome",
    "Retry",
    "classify",
    "missing_fields",
    "platform_answer",
]

GATEWAY_OK = 200
BUSY = -1
EXPIRED = 40011
REPLAYED = 40012  # the simulator's code for a nonce seen before (the SDK is silent; docs/connector.md)
MISSING_FIELDS = -99
NO_DATA = -98
# Gateway refusals no retry can cure and no data fix either: the credentials, the IP or our signing.
CONFIGURATION_CODES = frozenset({40004, 40007, 40010})


@dataclass(frozen=True, slots=True)
class Accepted:
    """The platform took the whole batch."""

    msg: str = ""
    data: Any = None
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again later, unchanged (busy, expired, timeout, connection failure, 5xx)."""

    reason: str
    code: int | None = None
    msg: str = ""
    raw: str = ""


@dataclass(frozen=True, slots=True)
class FixData:
    """Do not retry: a person must fix the data (or, when `is_configuration`, the connector's settings)."""

    code: int
    msg: str
    fields: tuple[str, ...] = field(default=())
    raw: str = ""
    records: tuple[dict[str, Any], ...] = field(default=())  # the refused records as the platform names them

    @property
    def is_configuration(self) -> bool:
        return self.code in CONFIGURATION_CODES


Outcome = Accepted | Retry | FixData


def platform_answer(code: int, msg_code: int | None = None, msg: str = "", data: Any = None) -> dict[str, Any]:
    """The platform's answer body (the simulator speaks it; tests build it)."""
    if msg_code is None:
        return {"code": code, "msg": msg, "body": None}
    body: dict[str, Any] = {"msgCode": msg_code, "msg": msg}
    if data is not None:
        body["data"] = data
    return {"code": code, "body": body}


def missing_fields(msg: str) -> tuple[str, ...]:
    """The field names of a -99 message (`a|b|c`, possibly after a label such as `字段为空：`)."""
    text = msg.replace("：", ":")
    if ":" in text.split("|", 1)[0]:
        text = text.split(":", 1)[1]
    return tuple(name.strip() for name in text.split("|") if name.strip())


def classify(status_code: int, text: str) -> Outcome:
    """Classify an HTTP answer from the gateway."""
    if status_code >= 500 or status_code in (408, 429):
        return Retry(f"HTTP {status_code}", None, text[:200], text)
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("code"), int):
        if status_code >= 400:
            return FixData(status_code, f"HTTP {status_code}: {text[:200]}", raw=text)
        # A 2xx that is not the platform's JSON: a proxy in the way; it may pass next time.
        return Retry("unreadable answer", None, text[:200], text)
    code: int = answer["code"]
    found = answer.get("body")
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    msg = str(body.get("msg") or answer.get("msg") or "")
    if code == BUSY:
        return Retry("platform busy", code, msg, text)
    if code == EXPIRED:
        return Retry("request expired", code, msg, text)
    if code == REPLAYED:
        return Retry("nonce replayed", code, msg, text)
    if code != GATEWAY_OK:
        return FixData(code, msg, raw=text)
    msg_code = body.get("msgCode")
    if msg_code == GATEWAY_OK:
        return Accepted(msg, body.get("data"), text)
    named = _named_records(body.get("data"))
    if msg_code == MISSING_FIELDS:
        return FixData(MISSING_FIELDS, msg, missing_fields(msg), text, named)
    return FixData(msg_code if isinstance(msg_code, int) else 0, msg or "unexpected answer", raw=text, records=named)


def _named_records(data: Any) -> tuple[dict[str, Any], ...]:
    """The refused records a platform names in `body.data` (`[{index, businessId, fields}]`), else ()."""
    if not isinstance(data, list):
        return ()
    return tuple(item for item in data if isinstance(item, dict) and "index" in item)
