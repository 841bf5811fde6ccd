"""The simulator's report for vendors' connectors: `GET /sim/report` (and `hospital supervision-sim report`),
`GET /sim/methods`. A connector that leaves one required field empty is told the method, the field and the
record (its index in the batch and its business ID)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from click.testing import CliRunner

from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.envelope import SignedRequest, build_request
from connectors.supervision.gateway.responses import Accepted, FixData
from connectors.supervision.simulator import SimulatorConfig, create_simulator_app, examples
from connectors.supervision.simulator.report import REFUSAL_PATHS, render

pytestmark = pytest.mark.requirement("SUP-02", "SUP-03")

UNIT, KEY, SECRET = "UNIT-R", "KEY-R", "bbf1dd188b8b4629853f06f118d11e4a"


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[tuple[httpx.AsyncClient, GatewayClient]]:
    app = create_simulator_app(SimulatorConfig(UNIT, KEY, SECRET))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as http:
        yield http, GatewayClient("http://sim", UNIT, KEY, SECRET, http)


async def unit_report(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/sim/report")
    assert response.status_code == 200
    [unit] = response.json()["units"]
    return unit  # type: ignore[no-any-return]


async def test_a_missing_required_field_is_reported_with_method_field_and_record(sim: Any) -> None:
    http, client = sim
    complete, broken = examples.drug("YP-OK"), examples.drug("YP-BROKEN")
    required = next(m for m in (await http.get("/sim/methods")).json() if m["method"] == "uploadDrugCatalogue")
    field = next(r["field"] for r in required["required"] if r["required"] == "yes" and r["field"] not in
                 required["id_fields"] and r["field"] != "unitID")
    broken[field] = ""
    outcome = await client.send("uploadDrugCatalogue", [complete, broken])
    assert isinstance(outcome, FixData) and outcome.code == -99
    unit = await unit_report(http)
    assert unit["missing_fields"] == [{"method": "uploadDrugCatalogue", "index": 1, "business_id": "YP-BROKEN",
                                       "fields": [field], "received_ms": unit["missing_fields"][0]["received_ms"]}]
    assert unit["refusal_paths"]["missing_fields"] == 1
    assert (f"uploadDrugCatalogue record 1 (YP-BROKEN): required fields missing: {field}"
            in unit["missing_before_acceptance"])
    # once the record is sent whole, it is no longer missing
    assert isinstance(await client.send("uploadDrugCatalogue", [examples.drug("YP-BROKEN")]), Accepted)
    unit = await unit_report(http)
    assert not any("YP-BROKEN" in item for item in unit["missing_before_acceptance"])
    assert unit["methods"]["uploadDrugCatalogue"]["records_accepted"] == 1


async def test_the_report_counts_methods_refusal_paths_and_what_is_still_missing(sim: Any) -> None:
    http, client = sim
    fresh = await unit_report(http)
    assert all(f"refusal path never met: {p}" in fresh["missing_before_acceptance"] for p in REFUSAL_PATHS)
    assert "uploadDrugCatalogue: no record accepted yet" in fresh["missing_before_acceptance"]
    assert isinstance(await client.send("uploadDrugCatalogue", [examples.drug("YP1"), examples.drug("YP2")]),
                      Accepted)
    request = build_request("uploadDrugCatalogue", [{**examples.drug(), "unitID": UNIT}], app_key=KEY,
                            app_secret=SECRET)
    forged = SignedRequest(request.path, {**request.headers, "X-Ca-Signature": "A" * 64}, request.body)
    await http.post(forged.path, content=forged.body, headers=forged.headers)
    await http.post(request.path, content=request.body, headers=request.headers)
    await http.post(request.path, content=request.body, headers=request.headers)  # the same nonce again
    unit = await unit_report(http)
    assert unit["refusal_paths"]["signature"] == 1 and unit["refusal_paths"]["replay"] == 1
    assert unit["methods"]["uploadDrugCatalogue"]["records_accepted"] == 3
    assert unit["methods"]["uploadDrugCatalogue"]["required_fields_not_exercised"] == []
    assert "uploadDrugCatalogue: no record accepted yet" not in unit["missing_before_acceptance"]
    assert "refusal path never met: signature" not in unit["missing_before_acceptance"]
    assert "refusal path never met: digest" in unit["missing_before_acceptance"]
    assert "uploadDrugCatalogue: 3 records in 2 batches" in render({"units": [unit]})
    await http.post("/sim/reset")
    assert (await unit_report(http))["refusal_paths"]["signature"] == 0


async def test_methods_lists_each_method_with_its_required_fields(sim: Any) -> None:
    http, _ = sim
    methods = {m["method"]: m for m in (await http.get("/sim/methods")).json()}
    recipe = methods["uploadRecipeIndicators"]
    assert recipe["required"] and all(r["required"] != "no" for r in recipe["required"])
    assert {r["field"] for r in recipe["required"]}.isdisjoint(recipe["optional"])
    assert any(r["required"] == "if_minor" for m in methods.values() for r in m["required"])


def test_the_command_prints_the_report_of_a_running_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    from hospital.cli import main

    body = {"units": [{"unit": "U9", "methods": {}, "refusal_paths": dict.fromkeys(REFUSAL_PATHS, 0),
                       "regulator_checks": {}, "rejected_records": [],
                       "missing_fields": [{"method": "uploadRecipeIndicators", "index": 2, "business_id": "RX9",
                                           "fields": ["doctorName"], "received_ms": 1}],
                       "missing_before_acceptance": ["uploadRecipeIndicators record 2 (RX9): required fields "
                                                     "missing: doctorName"]}]}

    def fake_get(url: str, timeout: float) -> httpx.Response:
        assert url == "http://sim.example/sim/report"
        return httpx.Response(200, json=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", fake_get)
    result = CliRunner().invoke(main, ["supervision-sim", "report", "--url", "http://sim.example"])
    assert result.exit_code == 0, result.output
    assert "unit U9" in result.output
    assert "-99 uploadRecipeIndicators record 2 (RX9): doctorName" in result.output
