"""Every entry point wires the subscribers (hospital/wiring.py) before a use case runs; nothing else builds a
context, so a new entry point cannot start unwired without this file failing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hospital.biometrics.service.sessions import practice_session_open
from hospital.config import Settings
from hospital.context import HospitalContext, build_context
from hospital.identity.events import MayCarryPracticeSession, MayOpenSession, OwnProfileSection
from hospital.patients.service import profile_section
from hospital.prescriptions.review.service import on_visit_ended
from hospital.signing.service import on_suspension_changed
from hospital.staff.events import ClinicianAdmitted, SuspensionChanged
from hospital.staff.service import may_open_session
from hospital.visits.booking.events import VisitEnded
from hospital.wiring import subscribers, wire

REPO = Path(__file__).resolve().parents[2]


def assert_wired(ctx: HospitalContext) -> None:
    """The subscribers an admission, a suspension, a token renewal and a profile need are all there."""
    registry = ctx.events()
    assert registry.of(ClinicianAdmitted) == ()  # RX-05: no key is issued at admission; devices register
    assert registry.of(SuspensionChanged) == (on_suspension_changed,)
    assert registry.of(MayCarryPracticeSession) == (practice_session_open,)
    assert registry.of(OwnProfileSection) == (profile_section,)
    assert registry.of(MayOpenSession) == (may_open_session,)
    assert registry.of(VisitEnded) == (on_visit_ended,)


@pytest.fixture
def unwired(tmp_path: Path) -> HospitalContext:
    return build_context(Settings(environment="test", data_dir=tmp_path))


def test_one_registry_holds_every_subscriber_and_each_event_has_one() -> None:
    registry = subscribers()
    assert registry.events() == {SuspensionChanged, MayCarryPracticeSession, MayOpenSession,
                                 OwnProfileSection, VisitEnded}
    assert subscribers() is not registry  # a new registry per context, never a module global


def test_wire_gives_a_context_its_subscribers_once(unwired: HospitalContext) -> None:
    assert unwired.subscribers is None
    wired = wire(unwired)
    assert wired is unwired
    assert_wired(wired)
    registry = wired.subscribers
    assert wire(wired).subscribers is registry  # wiring twice (the tests' context, then create_app) changes nothing


def test_create_app_wires_the_context_it_is_given(unwired: HospitalContext) -> None:
    from hospital.app import create_app

    create_app(unwired.settings, unwired)
    assert_wired(unwired)


@pytest.fixture
def operator_env(tmp_path: Path) -> dict[str, Any]:
    """The environment an operator runs `hospital …` in: SQLite in a fresh data directory."""
    return {"HOSPITAL_DATA_DIR": str(tmp_path / "data"), "HOSPITAL_DATABASE_URL": None, "HOSPITAL_ENV": "demo"}


def test_the_security_scan_command_runs_with_a_wired_context(monkeypatch: pytest.MonkeyPatch,
                                                             operator_env: dict[str, Any]) -> None:
    from hospital.cli import main
    from hospital.security.detection import service

    seen: list[HospitalContext] = []

    class Report:
        opened: list[str] = []
        updated: list[str] = []

        def as_dict(self) -> dict[str, Any]:
            return {}

    async def scan(session: Any, ctx: HospitalContext, actor: Any, **_: Any) -> Report:
        seen.append(ctx)
        return Report()

    monkeypatch.setattr(service, "scan", scan)
    run = CliRunner().invoke(main, ["security", "scan"], env=operator_env)
    assert run.exit_code == 0, run.output
    [ctx] = seen
    assert_wired(ctx)


def test_the_retention_purge_command_runs_with_a_wired_context(monkeypatch: pytest.MonkeyPatch,
                                                               operator_env: dict[str, Any]) -> None:
    from hospital.cli import main
    from hospital.db import migrate
    from hospital.retention import service as purge

    # The purge takes its job lease (a row) before it works: the operator's database is migrated.
    migrate(f"sqlite+aiosqlite:///{Path(operator_env['HOSPITAL_DATA_DIR']) / 'hospital.db'}")

    seen: list[HospitalContext] = []

    class Report:
        def as_dict(self) -> dict[str, Any]:
            return {}

    async def purge_due(session: Any, ctx: HospitalContext, actor: Any) -> Report:
        seen.append(ctx)
        return Report()

    monkeypatch.setattr(purge, "purge_due", purge_due)
    run = CliRunner().invoke(main, ["retention", "purge", "--execute", "--json"], env=operator_env)
    assert run.exit_code == 0, run.output
    [ctx] = seen
    assert_wired(ctx)


def test_no_module_builds_a_context_but_the_wiring() -> None:
    """An entry point gets its context from `hospital.wiring.wired_context` (or `create_app`, which wires the one
    it is given), so none can start unwired. The supervision connector builds no context at all: it delivers the
    outbox and publishes nothing; should it ever need one, this test sends it through the wiring too."""
    building = re.compile(r"\b(build_context|HospitalContext)\(")
    allowed = {"hospital/context.py", "hospital/wiring.py"}
    offenders = [str(path.relative_to(REPO)) for folder in ("hospital", "connectors", "bench", "scripts")
                 for path in sorted((REPO / folder).rglob("*.py"))
                 if str(path.relative_to(REPO)) not in allowed and building.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
