"""A FHIR R4 server as a `Platform`: the FHIR mapping registry (`fhir/`), real time only (no T+1 batch, no
method ordering: each event is ordered by the `After` its mapper names), and the transport. An event's
resources go in one transaction Bundle, each resource PUT by its id, so a repeat after a lost answer rewrites the
same resources (idempotent). The server's answer is classified like the gateway's: 2xx accepted; 408, 429 and
5xx retried; other 4xx a data fix, with the OperationOutcome's diagnostics kept as the message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle

from connectors.supervision.fhir import fhir_registry, map_fhir_event
from connectors.supervision.gateway.responses import Accepted, FixData, Outcome, Retry
from connectors.supervision.mapping import EventView, MapContext, Mapped, Mapper, NotReported, UnmappedEvent
from connectors.supervision.timing import MethodTiming
from hospital.core.errors import ConnectorError

__all__ = ["FhirPlatform", "classify_fhir", "transaction"]

FHIR_JSON = "application/fhir+json"


def transaction(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A transaction Bundle PUTting each resource by id, validated by fhir.resources."""
    entries = [{"fullUrl": f"urn:uuid:{r['id']}" if _is_uuid(r["id"]) else None, "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources]
    bundle = Bundle.model_validate({"type": "transaction",
                                    "entry": [{k: v for k, v in e.items() if v is not None} for e in entries]})
    return dict(json.loads(bundle.model_dump_json()))


def _is_uuid(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4


def _diagnostics(text: str) -> str:
    try:
        outcome = json.loads(text)
        issues = outcome.get("issue") or []
        return "; ".join(str(i.get("diagnostics") or i.get("details", {}).get("text") or i.get("code")) for i in issues)
    except (ValueError, AttributeError):
        return text[:200]


def classify_fhir(status: int, text: str) -> Outcome:
    if 200 <= status < 300:
        return Accepted("accepted", None, text[:2000])
    if status in (408, 429) or status >= 500:
        return Retry(f"HTTP {status}", status, _diagnostics(text), text[:2000])
    return FixData(status, _diagnostics(text) or f"HTTP {status}", raw=text[:2000])


class FhirPlatform:
    """A FHIR server: one Bundle per event, taken as it comes."""

    name = "fhir"
    max_records = 1  # one Bundle per event

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = http

    def registry(self) -> Mapping[str, Mapper]:
        return fhir_registry()

    def map(self, event: EventView[Any], ctx: MapContext) -> Mapped | NotReported | UnmappedEvent:
        return map_fhir_event(event, ctx)

    def timing(self, method: str) -> MethodTiming:
        # Real time only: the T+1 batch and the ordering between methods are the gateway's (data/timing.csv).
        return MethodTiming(method, False, ())

    def business_key(self, mapped: Mapped) -> str | None:
        return None  # resources are PUT by id: a later version rewrites them, nothing to fold in a batch

    def check(self, mapped: Mapped) -> FixData | None:
        return None  # fhir.resources validated every resource when the mapper built it

    async def deliver_records(self, method: str, records: list[dict[str, Any]]) -> Outcome:
        raise ConnectorError("the FHIR transport sends one event per Bundle")

    async def deliver(self, event: EventView[Any], mapped: Mapped, ctx: MapContext) -> Outcome:
        body = json.dumps(transaction(mapped.records), ensure_ascii=False)
        try:
            response = await self._http.post(self._base_url, content=body.encode("utf-8"),
                                             headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON})
        except httpx.TimeoutException as exc:
            return Retry(f"timeout: {type(exc).__name__}", msg=str(exc))
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
            return Retry(f"connection failed: {type(exc).__name__}", msg=str(exc))
        except httpx.HTTPError as exc:
            raise ConnectorError(f"FHIR server call failed: {exc}") from exc
        return classify_fhir(response.status_code, response.text)

    async def aclose(self) -> None:
        return None
