"""Proof by removal: the no-op a registered rule is swapped for, one that finds nothing.

What "finds nothing" returns follows the rule's return type: a check that raises or returns None becomes `None`,
a rule that returns its findings (a list) returns none, an optional result (`X | None`) returns None, and a
check that returns its own input, checked (a parsed name, a phone number, a record that must exist), returns
the input unchecked. A rule that computes a new value from its arguments (a parsed code, a next status) gets
the reviewed no-op of hospital/conformance/noops.py (its parse without its refusals); a rule with neither is
listed by `prove` as not swappable.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hospital.core.rule_registry import RegisteredRule, swapped

__all__ = ["disabled", "noop_for"]


def _hints(function: Callable[..., object]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve: no no-op
        return {}


def _is_optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def noop_for(registered: RegisteredRule) -> Callable[..., object] | None:
    """The stand-in that finds nothing, or None when the rule has none (see the module's docstring)."""
    from hospital.conformance.noops import VALUE_NOOPS

    if registered.qualname in VALUE_NOOPS:
        return VALUE_NOOPS[registered.qualname]
    hints = _hints(registered.function)
    if "return" not in hints:
        return None
    returned = hints["return"]
    if returned is type(None) or _is_optional(returned):
        return lambda *args, **kwargs: None
    if typing.get_origin(returned) is list:
        return lambda *args, **kwargs: []
    parameters = list(inspect.signature(registered.function).parameters)  # the rule's own (through __wrapped__)
    if parameters:
        first = hints.get(parameters[0])
        accepted = typing.get_args(first) if typing.get_origin(first) in (typing.Union, types.UnionType) else (first,)
        if returned in accepted:
            return lambda *args, **kwargs: args[0] if args else kwargs[parameters[0]]
    return None


@contextmanager
def disabled(registered: RegisteredRule) -> Iterator[None]:
    """Within the block `registered` finds nothing, for every caller."""
    noop = noop_for(registered)
    if noop is None:
        raise ValueError(f"{registered.qualname} has no no-op (it computes a value)")
    with swapped(registered, noop):
        yield
