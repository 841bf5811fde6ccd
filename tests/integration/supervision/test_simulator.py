"""GatewayClient against the simulated platform in process (httpx.ASGITransport): the protocol's answers,
de-duplication, fault injection and the regulator's risk checks (SUP-01…04)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.envelope import SignedRequest, build_request
from connectors.supervision.gateway.responses import (
    Accepted,
    FixData,
    Outcome,
    Retry,
    classify,
)
from connectors.supervision.simulator import (
    SimulatorConfig,
    create_simulator_app,
    examples,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.requirement("SUP-02", "SUP-03")]

UNIT, KEY, SECRET = "UNIT-1", "KEY-1", "bbf1dd188b8b4629853f06f118d11e4a"
RECIPE = "uploadRecipeIndicators"


class Clock:
    """The platform's clock: real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Sim:
    http: httpx.AsyncClient
    client: GatewayClient

    async def records(self, method: str) -> list[dict[str, Any]]:
        return (await self.http.get(f"/sim/records/{method}")).json()

    async def warnings(self) -> list[str]:
        return [w["check"] for w in (await self.http.get("/sim/warnings")).json()]

    async def fault(self, **fault: Any) -> None:
        response = await self.http.post("/sim/faults", json=fault)
        assert response.status_code == 200, response.text

    async def post(self, request: SignedRequest) -> Outcome:
        response = await self.http.post(request.path, content=request.body, headers=request.headers)
        return classify(response.status_code, response.text)

    async def file_practice(self) -> None:
        """Staff, catalogue and today's face verifications: what business records rely on."""
        for method, records in (
            ("uploadDoctorIndicators", [examples.doctor(), examples.pharmacist()]),
            ("uploadDrugCatalogue", [examples.drug()]),
            ("uploadFaceVerification",
             [examples.face_verification(), examples.face_verification(examples.PHARMACIST_CERT)]),
            ("uploadReferralIndicators", [examples.revisit()]),
        ):
            assert isinstance(await self.client.send(method, records), Accepted)


def connect(app: Any) -> tuple[httpx.AsyncClient, GatewayClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")
    return http, GatewayClient("http://sim", UNIT, KEY, SECRET, http)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def sim(clock: Clock) -> AsyncIterator[Sim]:
    http, client = connect(create_simulator_app(SimulatorConfig(UNIT, KEY, SECRET, clock=clock)))
    async with http:
        yield Sim(http, client)


# --- the protocol ---------------------------------------------------------------------------------------

async def test_a_valid_batch_is_accepted_and_stored_with_the_unit_filled_in(sim: Sim) -> None:
    outcome = await sim.client.send("uploadDrugCatalogue", [examples.drug("YP1"), examples.drug("YP2")])
    assert isinstance(outcome, Accepted)
    stored = await sim.records("uploadDrugCatalogue")
    assert [s["businessId"] for s in stored] == ["YP1", "YP2"]
    assert stored[0]["record"]["unitID"] == UNIT


async def test_a_bad_signature_is_answered_40010(sim: Sim) -> None:
    request = build_request("uploadDrugCatalogue", [examples.drug()], app_key=KEY, app_secret=SECRET)
    forged = SignedRequest(request.path, {**request.headers, "X-Ca-Signature": "A" * 64}, request.body)
    outcome = await sim.post(forged)
    assert isinstance(outcome, FixData) and outcome.code == 40010 and outcome.is_configuration
    assert await sim.records("uploadDrugCatalogue") == []


async def test_an_expired_timestamp_is_answered_40011_and_retried(sim: Sim, clock: Clock) -> None:
    clock.offset = 16 * 60
    outcome = await sim.client.send("uploadDrugCatalogue", [examples.drug()])
    assert isinstance(outcome, Retry) and outcome.code == 40011
    clock.offset = 0
    assert isinstance(await sim.client.send("uploadDrugCatalogue", [examples.drug()]), Accepted)


async def test_a_replayed_nonce_is_refused_and_stores_nothing_twice(sim: Sim) -> None:
    request = build_request("uploadDrugCatalogue", [{**examples.drug(), "unitID": UNIT}], app_key=KEY,
                            app_secret=SECRET)
    assert isinstance(await sim.post(request), Accepted)
    replay = await sim.post(request)
    assert isinstance(replay, Retry) and replay.code == 40012 and "already used" in replay.msg
    assert [s["duplicates"] for s in await sim.records("uploadDrugCatalogue")] == [0]


async def test_a_replay_and_an_expired_timestamp_answer_different_codes(sim: Sim, clock: Clock) -> None:
    request = build_request("uploadDrugCatalogue", [{**examples.drug(), "unitID": UNIT}], app_key=KEY,
                            app_secret=SECRET)
    assert isinstance(await sim.post(request), Accepted)
    replayed = await sim.post(request)
    clock.offset = 16 * 60
    expired = await sim.client.send("uploadDrugCatalogue", [examples.drug()])
    assert isinstance(replayed, Retry) and isinstance(expired, Retry)
    assert (replayed.code, replayed.reason, expired.code, expired.reason) == (
        40012, "nonce replayed", 40011, "request expired")


async def test_another_units_key_is_answered_40004(sim: Sim) -> None:
    stranger = GatewayClient("http://sim", UNIT, "KEY-2", SECRET, sim.http)
    outcome = await stranger.send("uploadDrugCatalogue", [examples.drug()])
    assert isinstance(outcome, FixData) and outcome.code == 40004


async def test_a_body_under_the_wrong_secret_is_answered_40001(sim: Sim) -> None:
    request = build_request("uploadDrugCatalogue", [examples.drug()], app_key=KEY, app_secret="00" * 16)
    outcome = await sim.post(request)
    assert isinstance(outcome, FixData) and outcome.code == 40001


async def test_an_unknown_method_is_answered_40001(sim: Sim) -> None:
    outcome = await sim.client.send("uploadNothing", [{"a": 1}])
    assert isinstance(outcome, FixData) and outcome.code == 40001 and "uploadNothing" in outcome.msg


async def test_a_caller_off_the_allow_list_is_answered_40007(clock: Clock) -> None:
    config = SimulatorConfig(UNIT, KEY, SECRET, clock=clock, allowed_ips=frozenset({"10.0.0.1"}))
    http, client = connect(create_simulator_app(config))
    async with http:
        outcome = await client.send("uploadDrugCatalogue", [examples.drug()])
    assert isinstance(outcome, FixData) and outcome.code == 40007


async def test_empty_required_fields_are_named_in_minus_99(sim: Sim) -> None:
    record = {**examples.prescription(), "icdCode": "", "icdName": None}
    record["orderList"][0]["useDays"] = ""
    outcome = await sim.client.send(RECIPE, [record])
    assert isinstance(outcome, FixData) and outcome.code == -99
    assert outcome.fields == ("icdCode", "icdName", "orderList[0].useDays")
    assert outcome.msg == "icdCode|icdName|orderList[0].useDays"


async def test_one_bad_record_rejects_the_whole_batch(sim: Sim) -> None:
    bad = {**examples.drug("YP3"), "hospDrugName": ""}
    outcome = await sim.client.send("uploadDrugCatalogue", [examples.drug("YP1"), examples.drug("YP2"), bad])
    assert isinstance(outcome, FixData) and outcome.fields == ("hospDrugName",)
    assert await sim.records("uploadDrugCatalogue") == []


async def test_a_minus_99_in_a_batch_names_each_refused_record_by_index_and_business_id(sim: Sim) -> None:
    first = {**examples.drug("YP1"), "hospDrugName": ""}
    third = {**examples.drug("YP3"), "drugClass": "", "useFlag": None}
    outcome = await sim.client.send("uploadDrugCatalogue", [first, examples.drug("YP2"), third])
    assert isinstance(outcome, FixData) and outcome.code == -99
    assert outcome.msg == "hospDrugName|drugClass|useFlag"  # the SDK's reading of msg is unchanged
    assert outcome.records == (
        {"index": 0, "businessId": "YP1", "fields": ["hospDrugName"]},
        {"index": 2, "businessId": "YP3", "fields": ["drugClass", "useFlag"]},
    )


async def test_a_refused_record_in_a_batch_is_named_by_index_and_business_id(sim: Sim) -> None:
    other = {**examples.drug("YP2"), "unitID": "UNIT-9"}
    outcome = await sim.client.send("uploadDrugCatalogue", [examples.drug("YP1"), other])
    assert isinstance(outcome, FixData) and outcome.code == -1
    assert outcome.msg.startswith("record 1 (YP2): unitID")
    assert outcome.records == ({"index": 1, "businessId": "YP2"},)


async def test_an_empty_batch_is_no_data_but_an_empty_dispute_list_is_the_daily_check_in(sim: Sim) -> None:
    no_data = await sim.client.send("uploadDrugCatalogue", [])
    assert isinstance(no_data, FixData) and no_data.code == -98
    assert isinstance(await sim.client.send("pushMedicalDispute", []), Accepted)
    log = (await sim.http.get("/sim/requests")).json()
    assert [(e["method"], e["msgCode"]) for e in log] == [("uploadDrugCatalogue", -98), ("pushMedicalDispute", 200)]


async def test_a_record_of_another_unit_rejects_the_batch_with_minus_1(sim: Sim) -> None:
    outcome = await sim.client.send("uploadDrugCatalogue", [examples.drug(), {**examples.drug("YP2"), "unitID": "X"}])
    assert isinstance(outcome, FixData) and outcome.code == -1 and "record 1" in outcome.msg
    assert await sim.records("uploadDrugCatalogue") == []


# --- de-duplication ---------------------------------------------------------------------------------------

async def test_the_same_business_id_and_version_is_stored_once(sim: Sim) -> None:
    await sim.file_practice()
    for _ in range(3):
        assert isinstance(await sim.client.send(RECIPE, [examples.prescription()]), Accepted)
    stored = await sim.records(RECIPE)
    assert [(s["businessId"], s["duplicates"]) for s in stored] == [("RX-0001", 2)]


async def test_a_new_version_of_a_business_record_is_kept_beside_the_old(sim: Sim) -> None:
    await sim.client.send("uploadDrugCatalogue", [examples.drug()])
    changed = {**examples.drug(), "hospDrugPacking": "5mg*14片", "updateTime": "2024-06-13 07:00:00"}
    await sim.client.send("uploadDrugCatalogue", [changed])
    stored = await sim.records("uploadDrugCatalogue")
    assert [(s["businessId"], s["version"]) for s in stored] == [
        ("YP001", "2024-06-12 07:00:00"), ("YP001", "2024-06-13 07:00:00")]


# --- fault injection --------------------------------------------------------------------------------------

async def test_busy_for_the_next_two_requests_then_accepted(sim: Sim) -> None:
    await sim.fault(kind="busy", count=2)
    outcomes = [await sim.client.send("pushMedicalDispute", []) for _ in range(3)]
    assert [type(o).__name__ for o in outcomes] == ["Retry", "Retry", "Accepted"]
    assert outcomes[0].code == -1  # type: ignore[union-attr]


async def test_http_500_is_retried(sim: Sim) -> None:
    await sim.fault(kind="http500", count=1)
    outcome = await sim.client.send("uploadDrugCatalogue", [examples.drug()])
    assert isinstance(outcome, Retry) and outcome.reason == "HTTP 500"
    assert await sim.records("uploadDrugCatalogue") == []


async def test_down_for_some_seconds_answers_503_until_the_time_is_up(sim: Sim, clock: Clock) -> None:
    await sim.fault(kind="down", seconds=60)
    first = await sim.client.send("pushMedicalDispute", [])
    assert isinstance(first, Retry) and first.reason == "HTTP 503"
    assert (await sim.http.get("/sim/faults")).json()["fault"]["kind"] == "down"
    clock.offset = 61
    assert isinstance(await sim.client.send("pushMedicalDispute", []), Accepted)
    assert (await sim.http.get("/sim/faults")).json() == {"fault": None}


async def test_a_stall_answers_504_and_processes_nothing(sim: Sim) -> None:
    await sim.fault(kind="stall", count=1, delay=0.01)
    outcome = await sim.client.send("uploadDrugCatalogue", [examples.drug()])
    assert isinstance(outcome, Retry) and outcome.reason == "HTTP 504"
    assert await sim.records("uploadDrugCatalogue") == []


async def test_a_retry_after_a_slow_answer_that_timed_out_is_deduplicated(sim: Sim) -> None:
    await sim.fault(kind="slow", count=1, delay=5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.client.send("uploadDrugCatalogue", [examples.drug()]), timeout=0.2)
    assert isinstance(await sim.client.send("uploadDrugCatalogue", [examples.drug()]), Accepted)
    assert [s["duplicates"] for s in await sim.records("uploadDrugCatalogue")] == [1]


async def test_clearing_the_fault_and_reset(sim: Sim) -> None:
    await sim.fault(kind="http500")
    assert (await sim.http.delete("/sim/faults")).status_code == 204
    assert isinstance(await sim.client.send("uploadDrugCatalogue", [examples.drug()]), Accepted)
    await sim.http.post("/sim/reset")
    assert await sim.records("uploadDrugCatalogue") == []
    assert (await sim.http.get("/sim/requests")).json() == []


async def test_an_unknown_fault_is_a_400(sim: Sim) -> None:
    response = await sim.http.post("/sim/faults", json={"kind": "meteor"})
    assert response.status_code == 400 and "meteor" in response.json()["detail"]


# --- the regulator's checks ---------------------------------------------------------------------------------

async def test_a_prescription_meeting_every_check_raises_no_warning(sim: Sim) -> None:
    await sim.file_practice()
    assert isinstance(await sim.client.send(RECIPE, [examples.prescription()]), Accepted)
    assert isinstance(await sim.client.send("uploadRecipeAuditIndicators", [examples.review()]), Accepted)
    assert await sim.warnings() == []


async def test_a_prescription_breaking_the_drug_rules_is_warned_on_each(sim: Sim) -> None:
    await sim.file_practice()
    await sim.client.send("uploadDrugCatalogue", [examples.drug("YP-T", "盐酸曲马多片")])
    record = examples.prescription("RX-2", icd_code="J45.900", drug_code="YP-T", drug_name="盐酸曲马多片",
                                   use_days=30)
    assert isinstance(await sim.client.send(RECIPE, [record]), Accepted)
    assert await sim.warnings() == ["diagnosis_mismatch", "controlled_drug", "over_quantity"]


async def test_practice_outside_the_filed_subject_is_warned(sim: Sim) -> None:
    await sim.file_practice()
    await sim.client.send(RECIPE, [{**examples.prescription(), "subjectCode": "07"}])
    warnings = (await sim.http.get("/sim/warnings")).json()
    assert [(w["check"], w["ruleId"], w["businessId"]) for w in warnings] == [("outside_scope", "STAFF-03", "RX-0001")]


async def test_a_clinician_without_face_verification_is_warned(sim: Sim) -> None:
    await sim.client.send("uploadDoctorIndicators", [examples.doctor(), examples.pharmacist()])
    await sim.client.send("uploadDrugCatalogue", [examples.drug()])
    await sim.client.send("uploadReferralIndicators", [examples.revisit()])
    await sim.client.send(RECIPE, [examples.prescription()])
    assert await sim.warnings() == ["unverified_clinician", "unverified_clinician"]


async def test_a_prescription_before_the_drug_catalogue_is_warned(sim: Sim) -> None:
    await sim.client.send("uploadDoctorIndicators", [examples.doctor(), examples.pharmacist()])
    await sim.client.send("uploadFaceVerification", [examples.face_verification()])
    await sim.client.send("uploadReferralIndicators", [examples.revisit()])
    await sim.client.send(RECIPE, [examples.prescription()])
    warnings = (await sim.http.get("/sim/warnings")).json()
    assert [w["check"] for w in warnings] == ["drug_not_in_catalogue"]
    assert "before any drug catalogue" in warnings[0]["message"]


async def test_a_rating_is_refused_until_its_business_record_was_sent(sim: Sim) -> None:
    refused = await sim.client.send("uploadBusinessInfoAfter", [examples.rating()])
    assert isinstance(refused, FixData) and refused.code == -1 and "R-0001" in refused.msg
    await sim.file_practice()
    assert isinstance(await sim.client.send("uploadBusinessInfoAfter", [examples.rating()]), Accepted)


# --- files and storage ------------------------------------------------------------------------------------

async def test_upload_file_returns_ids_and_lists_the_file(sim: Sim) -> None:
    files = [{"fileName": "出院小结.pdf", "contentBase64": "JVBERi0=", "size": 5, "type": "pdf"}]
    outcome = await sim.client.upload_files(files)
    assert isinstance(outcome, Accepted) and len(outcome.data) == 1
    listed = (await sim.http.get("/sim/files")).json()
    assert [(f["fileId"], f["fileName"], f["size"]) for f in listed] == [(outcome.data[0], "出院小结.pdf", 5)]


async def test_upload_file_refuses_content_that_is_not_base64(sim: Sim) -> None:
    outcome = await sim.client.upload_files([{"fileName": "a", "contentBase64": "%%%", "size": 3, "type": "png"}])
    assert isinstance(outcome, FixData) and outcome.code == -1


async def test_a_sqlite_store_keeps_records_and_nonces_across_a_restart(tmp_path: Path, clock: Clock) -> None:
    config = SimulatorConfig(UNIT, KEY, SECRET, clock=clock, store_path=str(tmp_path / "platform.sqlite"))
    request = build_request("uploadDrugCatalogue", [{**examples.drug(), "unitID": UNIT}], app_key=KEY,
                            app_secret=SECRET)
    http, client = connect(create_simulator_app(config))
    async with http:
        assert isinstance(await Sim(http, client).post(request), Accepted)
    http, client = connect(create_simulator_app(config))
    async with http:
        restarted = Sim(http, client)
        assert [s["businessId"] for s in await restarted.records("uploadDrugCatalogue")] == ["YP001"]
        replay = await restarted.post(request)
        assert isinstance(replay, Retry) and replay.code == 40012
