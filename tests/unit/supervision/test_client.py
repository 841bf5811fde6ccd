"""GatewayClient over httpx.MockTransport: what goes on the wire and how foreign failures come back."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from connectors.supervision.gateway.client import GatewayClient
from connectors.supervision.gateway.envelope import MemoryNonceStore, verify_request
from connectors.supervision.gateway.responses import (
    Accepted,
    FixData,
    Retry,
    platform_answer,
)
from connectors.supervision.gateway.sm import CipherError
from hospital.core.errors import ConnectorError

pytestmark = pytest.mark.asyncio

SECRET = "bbf1dd188b8b4629853f06f118d11e4a"
Handler = Callable[[httpx.Request], httpx.Response]


def client_over(handler: Handler) -> GatewayClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GatewayClient("http://platform.test/", "UNIT-1", "KEY-1", SECRET, http)


def accepted(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=platform_answer(200, 200, "成功"))


async def test_the_request_is_posted_to_openapi_api_and_passes_the_platform_check() -> None:
    seen: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return accepted(request)

    outcome = await client_over(platform).send("uploadDrugCatalogue", [{"hospDrugCode": "YP1"}])
    assert isinstance(outcome, Accepted)
    request = seen[0]
    assert request.url == "http://platform.test/openapi/api"
    verified = verify_request(request.headers, request.content.decode(), app_key="KEY-1", app_secret=SECRET,
                              nonces=MemoryNonceStore(60_000), window_ms=60_000)
    assert verified.method == "uploadDrugCatalogue"
    assert verified.records == [{"hospDrugCode": "YP1", "unitID": "UNIT-1"}]


async def test_a_record_keeps_its_own_unit_id_and_the_callers_dict_is_untouched() -> None:
    bodies: list[str] = []

    def platform(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content.decode())
        return accepted(request)

    record = {"hospDrugCode": "YP1", "unitID": "OTHER"}
    client = client_over(platform)
    await client.send("uploadDrugCatalogue", [record])
    assert record == {"hospDrugCode": "YP1", "unitID": "OTHER"}
    assert client.with_unit(record)["unitID"] == "OTHER"
    assert client.with_unit({"unitID": " "})["unitID"] == "UNIT-1"


async def test_every_send_uses_a_fresh_nonce() -> None:
    nonces: list[str] = []

    def platform(request: httpx.Request) -> httpx.Response:
        nonces.append(request.headers["X-Ca-Nonce"])
        return accepted(request)

    client = client_over(platform)
    await client.send("pushMedicalDispute", [])
    await client.send("pushMedicalDispute", [])
    assert len(set(nonces)) == 2


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_a_timeout_comes_back_as_retry(error: type[httpx.TimeoutException]) -> None:
    def platform(request: httpx.Request) -> httpx.Response:
        raise error("timed out", request=request)

    outcome = await client_over(platform).send("pushMedicalDispute", [])
    assert isinstance(outcome, Retry)
    assert "timeout" in outcome.reason


async def test_a_refused_connection_comes_back_as_retry() -> None:
    def platform(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    outcome = await client_over(platform).send("pushMedicalDispute", [])
    assert isinstance(outcome, Retry) and "connection" in outcome.reason


async def test_any_other_httpx_failure_is_our_connector_error_raised_from_it() -> None:
    def platform(request: httpx.Request) -> httpx.Response:
        raise httpx.UnsupportedProtocol("no such scheme", request=request)

    with pytest.raises(ConnectorError) as raised:
        await client_over(platform).send("pushMedicalDispute", [])
    assert isinstance(raised.value.__cause__, httpx.UnsupportedProtocol)


async def test_a_malformed_base_url_is_our_connector_error() -> None:
    client = GatewayClient("http://[::1", "U", "K", SECRET, httpx.AsyncClient(transport=httpx.MockTransport(accepted)))
    with pytest.raises(ConnectorError) as raised:
        await client.send("pushMedicalDispute", [])
    assert isinstance(raised.value.__cause__, httpx.InvalidURL)


async def test_the_platforms_minus_99_comes_back_as_fix_data_with_the_fields() -> None:
    def platform(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=json.dumps(platform_answer(200, -99, "icdCode|icdName")))

    outcome = await client_over(platform).send("uploadRecipeIndicators", [{}])
    assert isinstance(outcome, FixData) and outcome.fields == ("icdCode", "icdName")


async def test_upload_files_posts_plaintext_to_the_upload_path() -> None:
    seen: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=platform_answer(200, 200, "成功", ["f1"]))

    files = [{"fileName": "a.png", "contentBase64": "aGVsbG8=", "size": 5, "type": "png"}]
    outcome = await client_over(platform).upload_files(files)
    assert isinstance(outcome, Accepted) and outcome.data == ["f1"]
    assert seen[0].url.path == "/openapi/api/uploadFile"
    assert json.loads(seen[0].content) == files


async def test_a_malformed_secret_is_refused_when_the_client_is_made() -> None:
    with pytest.raises(CipherError):
        GatewayClient("http://x", "U", "K", "not-hex", httpx.AsyncClient(transport=httpx.MockTransport(accepted)))
