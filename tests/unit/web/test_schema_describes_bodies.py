"""Issue 17, "Typed contracts": `/schema` documents every request body as the server reads it.

Walking the OpenAPI document `/schema/openapi.json` serves, no operation's body may be an untyped object (`{"type":
"object"}` with no properties, as a `dict[str, Any]` body renders); and a multipart body's parts are exactly the
fields of the dataclass or Struct its handler reads, each file part (binary) a field the handler reads as an
upload — not `files[]` where the handler reads `image`. A handler that still picks parts out of a raw form by name
(`data.get("photo")`) fails too, naming the parts the schema does not document."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from pathlib import Path
from typing import Any

import msgspec
from litestar.datastructures import UploadFile

from hospital.app import create_app
from hospital.config import Settings

MULTIPART = "multipart/form-data"


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a body may take: references followed, `oneOf`/`anyOf` branches opened, null left out."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _resolved(document, document["components"]["schemas"][ref.removeprefix("#/components/schemas/")])
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        return [s for branch in branches for s in _resolved(document, branch)]
    return [] if schema.get("type") == "null" else [schema]


def _untyped_object(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" and not schema.get("properties")


def _is_upload(annotation: object) -> bool:
    if annotation is UploadFile:
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    return origin is list and args == (UploadFile,)


def _form_fields(form: object) -> dict[str, tuple[bool, bool]] | None:
    """A form type's fields by the name the server reads: (is an upload, is required); None if not a form type."""
    if not isinstance(form, type):
        return None
    hints = typing.get_type_hints(form)
    if dataclasses.is_dataclass(form):
        return {f.name: (_is_upload(hints[f.name]), f.default is dataclasses.MISSING
                         and f.default_factory is dataclasses.MISSING) for f in dataclasses.fields(form)}
    if issubclass(form, msgspec.Struct):
        return {f.encode_name: (_is_upload(hints[f.name]), f.required) for f in msgspec.structs.fields(form)}
    return None


def _binary(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "array":
        return _binary(schema.get("items", {}))
    return schema.get("format") == "binary"


def _handlers(app: Any) -> dict[tuple[str, str], Any]:
    handlers = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()):
                handlers[(route.path_format or "/", method.lower())] = handler
    return handlers


def _parts_read_by_name(handler: Any) -> set[str]:
    """Parts a handler picks out of a raw form (`data.get("x")`, `data["x"]`, a helper given `data, "x"`)."""
    source = inspect.getsource(handler.fn)
    return set(re.findall(r"""data(?:\.get\(|\[|,\s*)["']([\w\[\]]+)["']""", source))


def _wrong_multipart(document: dict[str, Any], schema: dict[str, Any], handler: Any) -> list[str]:
    data = handler.parsed_fn_signature.parameters.get("data")
    fields = _form_fields(data.annotation if data is not None else None)
    if fields is None:
        return [f"reads {data.annotation if data else 'no data'!r}: read a dataclass or Struct naming each part"]
    body = _resolved(document, schema)
    documented = {name: part for s in body for name, part in s.get("properties", {}).items()}
    required = {name for s in body for name in s.get("required", [])}
    wrong = []
    if set(documented) != set(fields):
        wrong.append(f"documents parts {sorted(documented)}, the handler reads {sorted(fields)}")
    files = {name for name, part in documented.items() if _binary(part)}
    if files != {name for name, (upload, _) in fields.items() if upload}:
        wrong.append(f"documents files {sorted(files)}, the handler reads uploads "
                     f"{sorted(name for name, (upload, _) in fields.items() if upload)}")
    if required != {name for name, (_, needed) in fields.items() if needed}:
        wrong.append(f"documents {sorted(required)} as required, the handler needs "
                     f"{sorted(name for name, (_, needed) in fields.items() if needed)}")
    unread = _parts_read_by_name(handler) - set(documented)
    if unread:
        wrong.append(f"picks undocumented parts {sorted(unread)} out of the form")
    return wrong


def test_every_request_body_is_documented_as_the_server_reads_it(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db")
    app = create_app(settings)
    document = app.openapi_schema.to_schema()  # what GET /schema/openapi.json serves
    handlers = _handlers(app)
    bodies, multiparts, wrong = 0, 0, []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            for media_type, content in operation["requestBody"]["content"].items():
                bodies += 1
                name = f"{method.upper()} {path} ({media_type})"
                schemas = _resolved(document, content.get("schema", {}))
                if not schemas or any(_untyped_object(s) for s in schemas):
                    wrong.append(f"{name}: an untyped object; read a Struct or dataclass naming its fields")
                if media_type == MULTIPART:
                    multiparts += 1
                    wrong += [f"{name}: {w}" for w in _wrong_multipart(document, content["schema"], handlers[(path, method)])]
    assert bodies > 40 and multiparts >= 4  # staff admission, prior diagnosis, face image, face burst
    assert not wrong, "\n".join(wrong)


def test_the_walk_finds_an_untyped_body_and_a_misnamed_part() -> None:
    """The checks above catch what issue 17 found: a `dict[str, Any]` body, and `files[]` where `image` is read."""
    untyped = {"additionalProperties": {}, "type": "object"}
    assert _untyped_object(untyped)
    assert not _untyped_object({"type": "object", "properties": {"image": {"type": "string", "format": "binary"}}})

    async def legacy(data: dict[str, UploadFile]) -> None:
        data.get("image")

    class Handler:
        fn = legacy
        parsed_fn_signature = type("Signature", (), {"parameters": {"data": type("P", (), {"annotation": dict})}})

    files = {"type": "object", "properties": {"files": {"type": "array", "items": {"type": "string",
                                                                                   "format": "binary"}}}}
    assert _wrong_multipart({}, files, Handler)
    assert _parts_read_by_name(Handler) == {"image"}
