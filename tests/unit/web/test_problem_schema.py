"""/schema documents refusals as the problem+json the handlers answer (hospital/core/problems.py), not litestar's own
`application/json` error shape, which no response ever has (issue 17; schemathesis found every 400 off-schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hospital.app import create_app
from hospital.config import Settings


def test_every_documented_refusal_is_problem_json(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db")
    schema = create_app(settings).openapi_schema.to_schema()
    refusals = [(method, path, status, response) for path, item in schema["paths"].items()
                for method, operation in item.items() if isinstance(operation, dict)
                for status, response in operation.get("responses", {}).items() if status.startswith("4")]
    assert refusals, "no documented refusal at all"
    off = [f"{method} {path} {status}: {list(response.get('content', {}))}"
           for method, path, status, response in refusals
           if list(response.get("content", {})) != ["application/problem+json"]]
    assert off == [], "\n".join(off)


def _operations(tmp_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db")
    schema = create_app(settings).openapi_schema.to_schema()
    return {(method.upper(), path): operation for path, item in schema["paths"].items()
            for method, operation in item.items() if isinstance(operation, dict)}


def _statuses(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"] if status.isdigit() and int(status) >= 400}


def test_every_route_documents_the_refusals_its_shape_implies(tmp_path: Path) -> None:
    """hospital/web/refusals.py derives each operation's refusals from its handler (issue 17): a token needed is
    401 and 403, a path id 404, a write to one 409, a body 413 and 422, a device signature 428 (RX-05), a
    clinical write 503 (SUP-01); a public operation needs no bearer token and is not documented as 401."""
    operations = _operations(tmp_path)
    assert len(operations) > 100
    off: list[str] = []
    for (method, path), operation in operations.items():
        statuses = _statuses(operation)
        public = operation.get("security") == []
        expected = {400} | (set() if public else {401, 403}) | ({404} if "{" in path else set())
        if "requestBody" in operation:
            expected |= {413, 422}
        if method != "GET" and "{" in path:
            expected.add(409)
        if method != "GET" and path.startswith(("/api/visits", "/api/prescriptions", "/api/dispensings")) \
                and not path.endswith("/rating"):
            expected.add(503)
        if missing := expected - statuses:
            off.append(f"{method} {path}: {sorted(missing)} not documented")
    assert off == [], "\n".join(off)
    public = {key for key, operation in operations.items() if operation.get("security") == []}
    assert {("POST", "/api/auth/login"), ("GET", "/health"), ("POST", "/api/patients")} <= public
    assert ("GET", "/api/me") not in public


def test_a_device_signed_act_documents_428_and_a_declared_refusal_is_listed(tmp_path: Path) -> None:
    """428 is read off the body's type (a DeviceSignatureBody in it, RX-05); `@refuses(...)` adds what the use case
    raises besides: a log-in's wrong password (401, on a public route) and lock-out (423)."""
    operations = _operations(tmp_path)
    signed = {key for key, operation in operations.items() if 428 in _statuses(operation)}
    assert {("POST", "/api/visits/{visit_id}/prescriptions"), ("POST", "/api/prescriptions/{prescription_id}/review"),
            ("POST", "/api/visits/{visit_id}/medical-record/sign-off")} <= signed
    assert ("POST", "/api/visits/{visit_id}/prescriptions/check") not in signed  # a dry run signs nothing
    login = operations[("POST", "/api/auth/login")]
    assert {401, 423} <= _statuses(login)
    assert login["responses"]["423"]["content"]["application/problem+json"]["schema"]["required"] == [
        "type", "title", "status", "detail"]
    assert 404 in _statuses(operations[("POST", "/api/visits")])  # the schedule named in the body


def test_the_log_in_documents_its_rate_limit_as_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db")
    schema = create_app(settings).openapi_schema.to_schema()
    limited = schema["paths"]["/api/auth/login"]["post"]["responses"]["429"]
    assert list(limited["content"]) == ["application/problem+json"]
    assert limited["headers"]["Retry-After"]["schema"] == {"type": "integer"}
