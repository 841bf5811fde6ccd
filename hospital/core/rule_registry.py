"""The rule registry: every rule function registers the requirement ID it enforces.

A rule is a pure function (no I/O, no framework). Decorate it with `@rule("RX-02", "title", source="PD 6")`;
it either raises `RuleViolation(rule_id, message)` or returns a list of `Finding`s. `hospital rules` lists the
registry, and the conformance suite checks every requirement ID in REQUIREMENTS.md has at least one rule or
test. Registering is the only side effect, and it happens at import.

The stand-in also names what its rule refuses or finds: a refusal carrying the rule's ID gets `raised_by` and a
finding `source`, the rule's qualname, so the reader is told that rule's own reason in their language
(hospital/core/messages.py, issue 14).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from hospital.core.errors import HospitalError, RuleViolation

__all__ = ["Finding", "RegisteredRule", "RuleViolation", "Severity", "all_rules", "registered", "rule", "rules_for", "swapped"]

P = ParamSpec("P")
R = TypeVar("R")


class Severity(enum.StrEnum):
    """How a finding weighs: `block` refuses, `warn` needs a human to see it, `info` is for the record."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found. `category` follows 医院处方点评管理规范 where it applies
    (non_standard / unsuitable / excessive), so the pharmacist and the platform see the same words."""

    rule_id: str
    severity: Severity
    message: str
    category: str = ""
    source: str = ""  # the qualname of the registered rule that found it (set by the registry): its texts name it
    # The finding in Chinese where the rule says it itself (a drug's dose against its label): what a Chinese page
    # shows instead of the rule's general reason, so two findings of one rule read differently (issue 14).
    detail_zh: str = ""

    def as_violation(self) -> RuleViolation:
        violation = RuleViolation(self.rule_id, self.message, category=self.category)
        violation.raised_by = self.source or None
        return violation


@dataclass(frozen=True, slots=True)
class RegisteredRule:
    rule_id: str
    title: str
    source: str
    function: Callable[..., object]

    @property
    def qualname(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


_REGISTRY: list[RegisteredRule] = []
# Rules swapped for a stand-in, by qualname: the conformance kit's proof by removal (`hospital conformance prove`)
# swaps one rule at a time for a no-op that finds nothing and runs the tests of its requirement. Empty otherwise.
_SWAPPED: dict[str, Callable[..., object]] = {}


def rule(rule_id: str, title: str, *, source: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register `function` as enforcing `rule_id` (an ID from REQUIREMENTS.md). Callers get a thin stand-in that
    calls `function` (or, while `swapped`, its replacement), so a swap reaches every caller however it imported it."""

    def register(function: Callable[P, R]) -> Callable[P, R]:
        qualname = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            replacement = _SWAPPED.get(qualname)
            if replacement is not None:
                return replacement(*args, **kwargs)  # type: ignore[return-value]
            try:
                result = function(*args, **kwargs)
            except HospitalError as refused:
                # The innermost rule of the same requirement names the refusal (a RuleViolation, or a Conflict
                # given the rule's ID): its title heads the problem.
                named = getattr(refused, "rule_id", None) or refused.extra.get("rule_id")
                if refused.raised_by is None and named == rule_id:
                    refused.raised_by = qualname
                raise
            if isinstance(result, list) and any(isinstance(f, Finding) and not f.source for f in result):
                return [dataclasses.replace(f, source=qualname) if isinstance(f, Finding) and not f.source else f
                        for f in result]  # type: ignore[return-value]
            return result

        checked.rule_id = rule_id  # type: ignore[attr-defined]
        _REGISTRY.append(RegisteredRule(rule_id, title, source, checked))
        return checked

    return register


def all_rules() -> list[RegisteredRule]:
    """Every registered rule, sorted by requirement ID then name (import the rule modules first)."""
    return sorted(_REGISTRY, key=lambda r: (r.rule_id, r.qualname))


def registered(qualname: str) -> RegisteredRule | None:
    """The registered rule of that qualname, None when none is (or its module was not imported)."""
    return next((r for r in _REGISTRY if r.qualname == qualname), None)


def rules_for(rule_id: str) -> list[RegisteredRule]:
    return [r for r in _REGISTRY if r.rule_id == rule_id]


@contextmanager
def swapped(registered: RegisteredRule, replacement: Callable[..., object]) -> Iterator[None]:
    """Within the block every call of `registered` runs `replacement` instead (the conformance kit's mutation)."""
    if registered not in _REGISTRY:
        raise KeyError(registered.qualname)
    previous = _SWAPPED.get(registered.qualname)
    _SWAPPED[registered.qualname] = replacement
    try:
        yield
    finally:
        if previous is None:
            _SWAPPED.pop(registered.qualname, None)
        else:
            _SWAPPED[registered.qualname] = previous
