"""Issue 17, "Typed contracts": `/schema` describes what a typed handler answers. For every handler answering a
msgspec Struct (or a list of them, or a Response of one), the OpenAPI document `/schema/openapi.json` serves
names that Struct's component for the success status, and the component lists exactly the Struct's wire keys,
so a page or a client reading the schema reads the keys the server sends."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import msgspec

from hospital.app import create_app
from hospital.config import Settings


def _answered_struct(annotation: object) -> tuple[type[msgspec.Struct], bool] | None:
    """The Struct a handler answers and whether as a list; None for anything else (bytes, a file, a redirect …)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation, False
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], msgspec.Struct):
        return args[0], True
    if origin is not None and getattr(origin, "__name__", "") == "Response" and args:
        return _answered_struct(args[0])
    return None


def _component(document: dict[str, Any], schema: dict[str, Any], as_list: bool) -> dict[str, Any]:
    if as_list:
        assert schema.get("type") == "array", schema
        schema = schema["items"]
    ref = schema.get("$ref", "")
    assert ref.startswith("#/components/schemas/"), schema
    return dict(document["components"]["schemas"][ref.removeprefix("#/components/schemas/")])


def test_every_struct_a_handler_answers_is_its_operations_success_schema_key_for_key(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db")
    app = create_app(settings)
    document = app.openapi_schema.to_schema()  # what GET /schema/openapi.json serves
    checked, wrong = 0, []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            answered = _answered_struct(handler.parsed_fn_signature.return_type.annotation)
            if answered is None or not handler.include_in_schema:
                continue
            struct, as_list = answered
            for method in handler.http_methods:
                operation = document["paths"][route.path_format or "/"][method.lower()]
                success = [r for status, r in operation["responses"].items() if status.startswith("2")]
                name = f"{method} {route.path_format} ({handler.fn.__qualname__})"
                if len(success) != 1 or "application/json" not in success[0].get("content", {}):
                    wrong.append(f"{name}: no JSON success response")
                    continue
                component = _component(document, success[0]["content"]["application/json"]["schema"], as_list)
                keys = {f.encode_name for f in msgspec.structs.fields(struct)}
                if set(component.get("properties", {})) != keys:
                    wrong.append(f"{name}: the schema lists {sorted(component.get('properties', {}))}, "
                                 f"{struct.__name__} sends {sorted(keys)}")
                checked += 1
    assert checked > 60, checked  # most of the API: the typed handlers
    assert wrong == [], "\n".join(wrong)
