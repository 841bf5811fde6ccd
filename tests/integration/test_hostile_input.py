"""Input that used to crash the server (500) answers 4xx problem+json: on every route that takes a body, every
date field and date query parameter at its extremes, and the four inputs issue 17 names (SEC-01, REC-03).

The routes come from the app itself (`app.routes`), so a new body-taking route is fuzzed without a line here."""

from __future__ import annotations

import datetime as dt
import re
import typing
import uuid
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from hospital.web.http import MAX_JSON_BYTES, MAX_JSON_DEPTH
from tests.helpers import hospital_today, login_as

pytestmark = pytest.mark.usefixtures("demo")

EXTREMES = ("9999-12-31", "0001-01-01", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+08:00")
HOSTILE_BODIES: dict[str, bytes] = {
    "invalid UTF-8": b'{"name": "\xff\xfe\xfd", "phone": "\xc3\x28"}',
    "nested 5000 deep (arrays)": b"[" * 5000 + b"]" * 5000,
    "nested 5000 deep (objects)": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    f"nested {MAX_JSON_DEPTH + 1} deep": b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
    "over the size limit": b'{"text": "' + b"x" * (MAX_JSON_BYTES + 1) + b'"}',
    "a NUL character": b'{"name": "a\\u0000b", "text": "a\\u0000b", "reason": "\\u0000"}',
    "a lone surrogate": b'{"name": "\\ud800", "text": "\\udc00x"}',
    "a byte-order mark": b'\xef\xbb\xbf{"name": "x"}',
    "truncated": b'{"name": "x',
    "not JSON": b"name=x&phone=y",
    "a huge number": b'{"capacity": 1e999, "quantity": 123456789012345678901234567890}',
    "empty": b"",
}


def _date_type(annotation: Any) -> bool:
    return annotation in (dt.date, dt.datetime) or any(_date_type(a) for a in typing.get_args(annotation))


def _date_paths(struct: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every date or date-time field of a msgspec Struct body, nested Structs and lists of them included."""
    paths: list[tuple[str, ...]] = []
    for field in msgspec.structs.fields(struct):
        types = [field.type, *typing.get_args(field.type)]
        for inner in list(types):
            types.extend(typing.get_args(inner))
        if _date_type(field.type):
            paths.append((*prefix, field.encode_name))
        for inner in types:
            if isinstance(inner, type) and issubclass(inner, msgspec.Struct) and inner is not struct:
                paths.extend(_date_paths(inner, (*prefix, field.encode_name, "[]" if list in
                                                  [typing.get_origin(t) for t in types] else "")))
    return paths


def _body_at(path: tuple[str, ...], value: str) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "[]":
        return [_body_at(rest, value)]
    if head == "":
        return _body_at(rest, value)
    return {head: _body_at(rest, value)}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}:]+:uuid\}", str(uuid.uuid4()), re.sub(r"\{[^}:]+:str\}", "03.04", path))


def _routes(app: Litestar) -> list[tuple[str, str, Any, list[str]]]:
    """(method, path, body annotation or None, date query parameters) of every route taking a body or a date."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            params = handler.parsed_fn_signature.parameters
            dates = [name for name, p in params.items() if name != "data" and _date_type(p.annotation)]
            if "data" in params or dates:
                for method in sorted(handler.http_methods):
                    found.append((method, route.path, params["data"].annotation if "data" in params else None, dates))
    return found


def _problem(response: Any, what: str) -> None:
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/problem+json"), what


async def test_every_body_route_refuses_hostile_json_as_4xx(client: AsyncTestClient[Any]) -> None:
    admin = await login_as(client, "admin")
    routes = [r for r in _routes(client.app) if r[2] is not None]
    assert len(routes) >= 35, "the app's body-taking routes were not found"
    for method, path, _, _ in routes:
        for name, body in HOSTILE_BODIES.items():
            response = await client.request(method, _concrete(path), content=body,
                                            headers={**admin, "content-type": "application/json"})
            _problem(response, f"{method} {path} with {name}")
            if name.startswith(("invalid UTF-8", "nested", "a NUL")):
                assert response.status_code == 400, f"{method} {path} {name}: {response.status_code}"
            if name == "over the size limit":
                assert response.status_code == 413, f"{method} {path}: {response.status_code}"


async def test_every_date_field_and_parameter_at_its_extremes_is_refused(client: AsyncTestClient[Any]) -> None:
    admin = await login_as(client, "admin")
    checked: set[str] = set()
    for method, path, body, dates in _routes(client.app):
        for parameter in dates:
            for extreme in EXTREMES:
                response = await client.request(method, _concrete(path), params={parameter: extreme}, headers=admin,
                                                **({"json": {}} if body is not None else {}))
                _problem(response, f"{method} {path}?{parameter}={extreme}")
                assert response.json()["detail"].startswith(f"{parameter}: "), response.text
            checked.add(f"{path}?{parameter}")
        if isinstance(body, type) and issubclass(body, msgspec.Struct):
            for date_path in _date_paths(body):
                for extreme in EXTREMES:
                    response = await client.request(method, _concrete(path), json=_body_at(date_path, extreme),
                                                    headers=admin)
                    _problem(response, f"{method} {path} {date_path}={extreme}")
                    assert "outside the hospital's calendar" in response.json()["detail"], response.text
                checked.add(f"{path} {'.'.join(p for p in date_path if p)}")
    assert {"/api/doctor/queue?day", "/api/schedules starts_at", "/api/schedules ends_at"} <= checked, checked


async def test_the_four_inputs_that_crashed_answer_4xx(client: AsyncTestClient[Any]) -> None:
    doctor = await login_as(client, "doctor")
    for day in ("9999-12-31", "0001-01-01"):
        response = await client.get("/api/doctor/queue", params={"day": day}, headers=doctor)
        _problem(response, f"queue day {day}")
        assert response.status_code == 422
    assert (await client.get("/api/doctor/queue", params={"day": hospital_today().isoformat()},
                             headers=doctor)).status_code == 200
    for starts, ends in (("9999-12-31T23:00:00+00:00", "9999-12-31T23:59:00+00:00"),
                         ("0001-01-01T00:00:00+08:00", "0001-01-01T02:00:00+08:00")):
        response = await client.post("/api/schedules", headers=doctor, json={
            "department_code": "03.04", "starts_at": starts, "ends_at": ends, "capacity": 3})
        _problem(response, f"schedule {starts}")
        assert response.status_code == 422
    response = await client.post("/api/patients", content=b'{"name": "\xff\xfe"}',
                                 headers={"content-type": "application/json"})
    _problem(response, "invalid UTF-8")
    assert response.status_code == 400
    response = await client.post("/api/patients", content=b"[" * 5000 + b"]" * 5000,
                                 headers={"content-type": "application/json"})
    _problem(response, "nested 5000 deep")
    assert response.status_code == 400


async def test_declaring_another_content_type_does_not_pass_a_json_route_by_the_guard(
    client: AsyncTestClient[Any]
) -> None:
    """Only a route marked RAW_BODY (the TSA's DER request) is left to read its own body: a JSON route decodes its
    body whatever the client declares, so the TSA's content type on it is guarded as JSON."""
    admin = await login_as(client, "admin")
    routes = [r for r in _routes(client.app) if r[2] is not None]
    for method, path, _, _ in routes:
        response = await client.request(method, _concrete(path), content=HOSTILE_BODIES["a NUL character"],
                                        headers={**admin, "content-type": "application/timestamp-query"})
        assert response.status_code == 400, f"{method} {path}: {response.status_code}"
    raw = [(route.path, handler) for route in client.app.routes if isinstance(route, HTTPRoute)
           for handler in route.route_handlers if handler.opt.get("raw_body")]
    assert {path for path, _ in raw} == {"/tsa"}
    assert all("data" not in handler.parsed_fn_signature.parameters for _, handler in raw)
