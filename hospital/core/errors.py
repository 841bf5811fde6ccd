"""The hospital's errors, one hierarchy for every area.

    HospitalError                      anything the hospital refuses or cannot do
    ├── RuleViolation                  a requirement (RX-02, FACE-02 …) refuses the request      422
    │   ├── AccessRefused              the rule is about who acts (no fresh face, wrong role)   403
    │   ├── LockedOut                  repeated failures locked the account (FACE-04, login)    423
    │   ├── TooManyAttempts            over a rate limit; `retry_after` seconds (SEC-01 log-in)  429
    │   ├── SignatureRequired          sign this prepared payload on your device, then resend   428
    │   └── ServiceStopped             the hospital may not serve now (INS-01, QA-02)            503
    ├── InvalidTransition              a state machine refuses a move from its current state    409
    ├── Conflict                       a duplicate or a concurrent change lost the race         409
    ├── NotFound                       no such object, or not one the caller may see (SEC-01)    404
    ├── Forbidden                      the caller's role may not do this at all                 403
    ├── NotAuthenticated               no valid credentials                                      401
    ├── InvalidInput                   well-formed request with a bad value outside any rule     422
    ├── MalformedRequest               a body no decoder should read (not UTF-8, nested too deep) 400
    ├── PayloadTooLarge                an upload over its limit                                  413
    ├── UnsupportedMediaType           an upload that is not the declared or allowed type       415
    ├── ServiceUnavailable             licence expired, system stopped (INS-01, QA-02)          503
    ├── ConnectorError                 a foreign system failed; raised at the connector's edge  502
    ├── IntegrityFailure               stored data fails its integrity check (a sealed field)    500
    └── ContractViolation              an outbox event's payload breaks its contract (a bug)     500

Services raise these and never HTTP exceptions; `hospital.core.problems` maps each class to its status
and an RFC 9457 problem-details body. A test fails when a subclass has no mapping.
"""

from __future__ import annotations

from typing import Any

from hospital.core.messages import Message

__all__ = [
    "AccessRefused",
    "Conflict",
    "ConnectorError",
    "ContractViolation",
    "Forbidden",
    "HospitalError",
    "IntegrityFailure",
    "InvalidInput",
    "InvalidTransition",
    "LockedOut",
    "MalformedRequest",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "RuleViolation",
    "ServiceStopped",
    "ServiceUnavailable",
    "SignatureRequired",
    "TooManyAttempts",
    "UnsupportedMediaType",
]


class HospitalError(Exception):
    """Base of every refusal. `detail` is for people; `extra` is merged into the problem body."""

    title = "Request refused"
    # The qualname of the registered rule that raised it, set by the registry's wrapper (hospital.core.rule_registry):
    # the problem body's title is then that rule's own reason, in the reader's language (issue 14).
    raised_by: str | None = None

    def __init__(self, detail: str, **extra: Any) -> None:
        # A catalogue sentence (hospital.core.messages.say) is kept as `said`, to be told in the reader's language;
        # `detail` is always a plain str (its English), which every encoder (msgspec, json, pickle) takes.
        super().__init__(str(detail))
        self.said = detail if isinstance(detail, Message) else None
        self.detail = str(detail)
        self.extra = extra


class RuleViolation(HospitalError):
    """A requirement from REQUIREMENTS.md refuses the request; `rule_id` names it (e.g. "RX-02")."""

    title = "Refused by a rule"

    def __init__(self, rule_id: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.rule_id = rule_id

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.detail}"


class SignatureRequired(RuleViolation):
    """RX-05: only the clinician's device signs. The act is refused, nothing stored, and the problem body carries
    the prepared payload (`payload_b64`, `signing_request`) for the device to sign; the client resends with `jws`."""

    title = "Sign on your device"


class AccessRefused(RuleViolation):
    """A rule about who may act refuses the actor (FACE-02: no fresh face verification)."""

    title = "Refused: the actor does not meet a rule"


class LockedOut(RuleViolation):
    """Too many failed attempts; the account is locked until `locked_until` (FACE-04, SEC-01)."""

    title = "Locked after repeated failures"


class TooManyAttempts(RuleViolation):
    """Over a rate limit (SEC-01: log-in attempts from one address); try again after `retry_after` seconds, which
    the answer also carries as its Retry-After header."""

    title = "Too many attempts"


class ServiceStopped(RuleViolation):
    """The hospital may not serve clinical work now: licence missing or expired (INS-01), stopped (QA-02)."""

    title = "Service stopped by a rule"


class InvalidTransition(HospitalError):
    """A state machine refuses a move; the message names the current state."""

    title = "Not allowed in the current state"

    def __init__(self, detail: str, *, current_state: str, rule_id: str | None = None, **extra: Any) -> None:
        super().__init__(detail, current_state=current_state, **extra)
        self.current_state = current_state
        self.rule_id = rule_id


class Conflict(HospitalError):
    title = "Conflict"


class NotFound(HospitalError):
    title = "Not found"


class Forbidden(HospitalError):
    title = "Forbidden"


class NotAuthenticated(HospitalError):
    title = "Not authenticated"


class InvalidInput(HospitalError):
    title = "Invalid input"


class MalformedRequest(HospitalError):
    title = "Malformed request"


class PayloadTooLarge(HospitalError):
    title = "Payload too large"


class UnsupportedMediaType(HospitalError):
    title = "Unsupported media type"


class ServiceUnavailable(HospitalError):
    title = "Service unavailable"

    def __init__(self, detail: str, *, rule_id: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.rule_id = rule_id


class ConnectorError(HospitalError):
    """A foreign system (the supervision platform) failed; raised `from` the foreign error."""

    title = "Connector error"


class IntegrityFailure(HospitalError):
    """Stored data fails its integrity check: a sealed field that no longer opens, a broken chain."""

    title = "Stored data failed an integrity check"


class ContractViolation(HospitalError):
    """An outbox event whose type has no payload contract, or whose payload misses a field, names one the
    contract does not know or gives one the wrong type (hospital/contracts). A bug in the emitting service:
    refused by `emit` inside the caller's transaction, so nothing of the use case is written."""

    title = "Event payload breaks its contract"
