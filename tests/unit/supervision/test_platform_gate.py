"""SUP-01 without a server: the rule refuses clinical work where the connection is required until a platform is
configured and has accepted a record of the hospital; the gate asks the outbox once and applies the rule only to
clinical writes. (Over HTTP, with the app and a database: tests/integration/connector/test_platform_gate.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from connectors.supervision.gate import PlatformGate, is_clinical_write
from connectors.supervision.rules import check_platform_connected
from connectors.supervision.settings import ConnectorSettings
from hospital.core.errors import ServiceStopped

pytestmark = pytest.mark.requirement("SUP-01")

PLATFORM = ConnectorSettings(url="http://platform", unit_id="U", app_key="K", app_secret="00" * 16)


def test_clinical_work_waits_for_a_configured_platform_that_accepted_the_hospital() -> None:
    check_platform_connected(required=False, configured=False, accepted=False)  # a test or demo hospital
    check_platform_connected(required=True, configured=True, accepted=True)
    with pytest.raises(ServiceStopped) as unconfigured:
        check_platform_connected(required=True, configured=False, accepted=False)
    assert unconfigured.value.rule_id == "SUP-01" and "no supervision platform" in unconfigured.value.detail
    with pytest.raises(ServiceStopped) as silent:
        check_platform_connected(required=True, configured=True, accepted=False)
    assert silent.value.rule_id == "SUP-01" and "not yet accepted" in silent.value.detail


class _Outbox:
    """A session factory over an outbox that has (or has not) a sent event; counts the queries."""

    def __init__(self, sent: bool) -> None:
        self.sent = sent
        self.queries = 0

    def __call__(self) -> Any:
        outbox = self

        class Session:
            async def execute(self, _: Any) -> Any:
                outbox.queries += 1
                return type("Rows", (), {"first": lambda _self: (1,) if outbox.sent else None})()

            async def rollback(self) -> None:
                pass

        @asynccontextmanager
        async def session() -> AsyncIterator[Session]:
            yield Session()

        return session()


async def test_the_gate_refuses_in_production_until_the_outbox_shows_an_accepted_record() -> None:
    with pytest.raises(ServiceStopped):
        await PlatformGate(ConnectorSettings(), production=True).check(_Outbox(sent=True))  # type: ignore[arg-type]
    waiting = _Outbox(sent=False)
    gate = PlatformGate(PLATFORM, production=True)
    with pytest.raises(ServiceStopped):
        await gate.check(waiting)  # type: ignore[arg-type]
    waiting.sent = True
    await gate.check(waiting)  # type: ignore[arg-type]
    await gate.check(waiting)  # type: ignore[arg-type]
    assert waiting.queries == 2  # once accepted, the process does not ask again
    await PlatformGate(ConnectorSettings(), production=False).check(_Outbox(sent=False))  # type: ignore[arg-type]


def test_only_clinical_writes_are_gated() -> None:
    assert is_clinical_write("POST", "/api/visits") and is_clinical_write("POST", "/api/prescriptions/x/review")
    assert not is_clinical_write("GET", "/api/visits")
    assert not is_clinical_write("POST", "/api/visits/x/rating")
    assert not is_clinical_write("POST", "/api/staff")
