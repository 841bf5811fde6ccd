"""The hospital's side of the gateway: send one method's records and classify the answer (SUP-02).

The client encrypts and signs each call afresh (new nonce, current time), so a retry is never a replay.
Timeouts and connection failures come back as `Retry`; any other failure of httpx is raised as our
`ConnectorError` from the foreign error. No data check happens here: `methods.missing_required` is for the
caller to run before queueing, and the platform's own -99 answer is classified as `FixData`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from connectors.supervision.gateway.envelope import (
    SignedRequest,
    build_request,
    build_upload_request,
)
from connectors.supervision.gateway.responses import Outcome, Retry, classify
from connectors.supervision.gateway.sm import parse_key
from hospital.core.errors import ConnectorError

__all__ = ["GatewayClient"]


class GatewayClient:
    """Speaks the gateway protocol to `base_url` (the part before `/openapi/api`) with the unit's credentials."""

    def __init__(self, base_url: str, unit_id: str, app_key: str, app_secret: str, http: httpx.AsyncClient) -> None:
        parse_key(app_secret)  # refuse a malformed secret now, not at the first send
        self._base_url = base_url.rstrip("/")
        self._unit_id = unit_id
        self._app_key = app_key
        self._app_secret = app_secret
        self._http = http

    def with_unit(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record with `unitID` filled from the credentials when it is absent or blank."""
        filled = dict(record)
        if not str(filled.get("unitID") or "").strip():
            filled["unitID"] = self._unit_id
        return filled

    async def send(self, method: str, records: Sequence[Mapping[str, Any]]) -> Outcome:
        """Upload `records` with `method` as one batch; the platform accepts or refuses it whole."""
        request = build_request(
            method, [self.with_unit(r) for r in records], app_key=self._app_key, app_secret=self._app_secret
        )
        return await self._post(request)

    async def upload_files(self, files: Sequence[Mapping[str, Any]]) -> Outcome:
        """uploadFile: `[{fileName, contentBase64, size, type}]`, unencrypted; `Accepted.data` holds the ids."""
        return await self._post(build_upload_request(files, app_key=self._app_key))

    async def _post(self, request: SignedRequest) -> Outcome:
        try:
            response = await self._http.post(
                self._base_url + request.path, content=request.body.encode("utf-8"), headers=request.headers
            )
        except httpx.TimeoutException as exc:
            return Retry(f"timeout: {type(exc).__name__}", msg=str(exc))
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            return Retry(f"connection failed: {type(exc).__name__}", msg=str(exc))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise ConnectorError(f"supervision gateway call failed: {exc}", method=request.headers.get(
                "X-Service-Method")) from exc
        return classify(response.status_code, response.text)
