"""Typed contracts: every route's handler answers a typed schema (a msgspec Struct or a dataclass from
hospital/contracts), never an untyped `dict`, so `/schema` describes what the API really answers.

The handlers still untyped are listed below, by name, and the list only shrinks: a new handler answering a
`dict[str, Any]` (or a list of them, or `Any`) fails here, and so does a listed one once it is typed (take it
off the list)."""

from __future__ import annotations

import types
import typing
from pathlib import Path

from hospital.app import create_app
from hospital.config import Settings

# Left to type (issue 17): none. The mechanism stays so that a handler can be listed while it is being typed.
NOT_YET_TYPED: frozenset[str] = frozenset()


def _untyped(annotation: object) -> bool:
    if annotation is typing.Any or annotation is dict:
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict:
        return True
    if origin in (list, tuple) or (origin is not None and getattr(origin, "__name__", "") == "Response"):
        return any(_untyped(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return any(_untyped(a) for a in args)
    return False


def test_every_handler_answers_a_typed_schema(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db")
    app = create_app(settings)
    untyped: set[str] = set()
    handlers = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            handlers += 1
            if _untyped(handler.parsed_fn_signature.return_type.annotation):
                untyped.add(f"{handler.fn.__module__}.{handler.fn.__qualname__}")
    assert handlers > 100
    new = sorted(untyped - NOT_YET_TYPED)
    assert not new, f"these handlers answer an untyped dict: answer a Struct from hospital/contracts instead: {new}"
    typed = sorted(NOT_YET_TYPED - untyped)
    assert not typed, f"typed now (or gone): take them off NOT_YET_TYPED: {typed}"
