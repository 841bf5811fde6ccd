"""/schema documents refusals as the problem+json the handlers answer (hospital/core/problems.py), not litestar's own
`application/json` error shape, which no response ever has (issue 17; schemathesis found every 400 off-schema)."""

from __future__ import annotations

from pathlib import Path

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


def test_the_log_in_documents_its_rate_limit_as_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db")
    schema = create_app(settings).openapi_schema.to_schema()
    limited = schema["paths"]["/api/auth/login"]["post"]["responses"]["429"]
    assert list(limited["content"]) == ["application/problem+json"]
    assert limited["headers"]["Retry-After"]["schema"] == {"type": "integer"}
