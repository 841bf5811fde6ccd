"""Schemathesis against `/schema` (issue 17, "machines that try everything"): for every operation the app documents,
a few generated requests are sent as each kind of caller (anonymous, a patient, a doctor in a face-verified practice
session, a pharmacist in one, an administrator), and every answer is checked: no server error, the response matches
its documented schema and media type, and its status is one the schema lists.

The run is bounded (EXAMPLES per operation, generation only, no shrinking) so it stays a CI test of a few minutes on
SQLite, and prints a summary so CI's log shows what was tried. Where a check cannot hold yet, the exclusion is
narrow and written down in NOT_YET with its reason; the operation is still sent and still checked for server
errors."""

from __future__ import annotations

import logging
import time
import warnings
from collections import Counter
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import NonInteractiveExampleWarning, Unsatisfiable
from litestar.testing import AsyncTestClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy.ext.asyncio import AsyncSession

from hospital.context import HospitalContext
from tests.helpers import login_as
from tests.integration.prescriptions.conftest import make_visit, reviewing_pharmacist
from tests.integration.visits.journey import doctor_in_session

# Generated requests per operation and caller, valid by the schema and breaking it; x ~100 operations x 5 callers
# this is ~3,000 requests, about a minute on SQLite (the brief's bound: ~3 minutes on 2 loaded cores).
EXAMPLES, NEGATIVE_EXAMPLES = 3, 3
# Past this many seconds (a loaded CI runner), each operation still to go gets one request of each kind per caller
# instead: every operation is still sent, the run stays bounded, and the summary says how many were cut down.
BUDGET_SECONDS = 120.0
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Statuses: schemathesis' own status_code_conformance is replaced by `_status_documented`, which says which status
# and what was documented: every refusal status a route answers is documented per route (issue 17), derived from the
# code (hospital/web/refusals.py), so an undocumented status, 4xx included, is a failure. The run prints how many
# answers each status had.
# Operations that end or replace the caller's session (logout, renewal; a wrong current password counts towards the
# account's lock-out): sent after every other operation, so the callers' sessions serve the rest of the run.
SESSION_ENDING = ("/api/auth/logout", "/api/auth/renew", "/api/auth/password")
# (method, path) -> (checks that cannot hold yet, why). Every entry names its reason; not_a_server_error is never
# excluded.
NOT_YET: dict[tuple[str, str], tuple[tuple[Any, ...], str]] = {}

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # CI's fuzz run; PostgreSQL adds nothing


def _cases(operation: Any, n: int, mode: GenerationMode) -> list[Any]:
    """`n` generated cases for `operation`: valid by its schema (positive) or breaking it (negative)."""
    found: list[Any] = []

    @settings(max_examples=n, phases=[Phase.generate], deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @hypothesis.given(operation.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        found.append(case)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        try:
            collect()
        except Unsatisfiable:  # a public operation taking nothing (GET /health) has no request that breaks it
            if mode is GenerationMode.POSITIVE:
                raise
    return found[:n]


def _request_kwargs(case: Any, headers: dict[str, str]) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://testserver.local", headers=headers)
    out: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"].replace("http://testserver.local", ""),
                           "headers": kwargs.get("headers") or {}, "params": kwargs.get("params")}
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    data, files = kwargs.get("data"), kwargs.get("files")
    if files is not None:  # schemathesis builds multipart for `requests`: encode it the same way, send the bytes
        prepared = requests.PreparedRequest()
        prepared.prepare_headers(None)
        prepared.prepare_body(data, files)
        out["content"] = prepared.body
        out["headers"] = {**out["headers"], "Content-Type": prepared.headers["Content-Type"]}
    elif isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    return out


def _status_documented(operation: Any, response: Any) -> str | None:
    """None when the operation's schema lists the status; else what it lists."""
    documented = set(operation.definition.raw.get("responses", {}))
    status = response.status_code
    if str(status) in documented or f"{status // 100}XX" in documented or "default" in documented:
        return None
    return f"undocumented status {status} (documented: {sorted(documented)})"


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, demo: None,
    record_property: Any,
) -> None:
    await make_visit(session, ctx)  # a real visit, so list reads have something to describe
    callers: dict[str, dict[str, str]] = {
        "anonymous": {}, "patient": await login_as(client, "patient"),
        "doctor": await doctor_in_session(client), "pharmacist": await reviewing_pharmacist(client),
        "admin": await login_as(client, "admin"),
    }
    raw = (await client.get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)

    logging.getLogger("httpx").setLevel(logging.WARNING)  # the summary below is the run's log, not every request
    operations = sent = cut_down = 0
    started = time.monotonic()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    found = list(schema.get_all_operations())
    broken = [str(result.err()) for result in found if isinstance(result, Err)]
    assert broken == [], f"/schema has operations schemathesis cannot read: {broken}"
    ordered = sorted((result.ok() for result in found if isinstance(result, Ok)), key=lambda op: op.path in SESSION_ENDING)
    for operation in ordered:
        operations += 1
        excluded, _why = NOT_YET.get((operation.method.upper(), operation.path), ((), ""))
        for role, headers in callers.items():
            rushed = time.monotonic() - started > BUDGET_SECONDS
            cut_down += rushed
            cases = _cases(operation, 1 if rushed else EXAMPLES, GenerationMode.POSITIVE)
            cases += _cases(operation, 1 if rushed else NEGATIVE_EXAMPLES, GenerationMode.NEGATIVE)
            for case in cases:
                response = await client.request(**_request_kwargs(case, headers))
                sent += 1
                statuses[response.status_code] += 1
                response.request.read()  # a multipart body is streamed; schemathesis reads the request it checks
                where = f"{operation.method.upper()} {operation.path} as {role}"
                if (why := _status_documented(operation, response)) is not None:
                    failures.append(f"{where}: {why} -- {response.text[:200]}")
                try:
                    case.validate_response(response, checks=[c for c in CHECKS if c not in excluded])
                except FailureGroup as group:
                    for failure in group.exceptions:
                        failures.append(f"{where}: {response.status_code} {failure.title}: {str(failure.message)[:300]}"
                                        f" -- {response.text[:200]}")
                except AssertionError as error:
                    failures.append(f"{where}: {response.status_code} {str(error)[:400]}")
    summary = (f"schemathesis: {operations} operations, {len(callers)} callers, {sent} requests, "
               f"answers per status {dict(sorted(statuses.items()))}, "
               f"{cut_down} operation-callers cut to 1+1 examples by the budget, "
               f"{time.monotonic() - started:.0f} s, {len(failures)} failures")
    print(summary)
    record_property("run_summary", summary)  # printed in CI's terminal summary (tests/conftest.py)
    for line in failures:
        print("  " + line)
    assert failures == [], "\n".join(failures)
