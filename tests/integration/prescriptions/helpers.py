"""Steps shared by the review, dispensing and export tests."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from hospital.visits.booking.models import Visit
from tests.integration.prescriptions.conftest import reviewing_pharmacist, signing_doctor, write
from tests.signing import signed_post


async def written(client: AsyncTestClient[Any], visit: Visit, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await write(client, await signing_doctor(client), visit, body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def review(client: AsyncTestClient[Any], headers: dict[str, str], rx: dict[str, Any], decision: str,
                 reasons: list[str] | None = None, **extra: Any) -> Any:
    return await signed_post(client, f"/api/prescriptions/{rx['prescription_id']}/review", headers,
                             {"decision": decision, "reasons": reasons or [], **extra})


async def approved(client: AsyncTestClient[Any], visit: Visit) -> tuple[dict[str, Any], dict[str, str]]:
    """A prescription written and approved; with the pharmacist's practice-session headers."""
    rx = await written(client, visit)
    pharmacist = await reviewing_pharmacist(client)
    response = await review(client, pharmacist, rx, "approve")
    assert response.status_code == 200, response.text
    return response.json(), pharmacist


async def dispense(client: AsyncTestClient[Any], headers: dict[str, str], rx: dict[str, Any],
                   courier_kind: str = "third_party", courier_name: str | None = "顺丰速运") -> Any:
    return await client.post(f"/api/prescriptions/{rx['prescription_id']}/dispensing", headers=headers,
                             json={"courier_kind": courier_kind, "courier_name": courier_name})
