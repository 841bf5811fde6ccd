"""Two app replicas on loopback behind Debian's nginx (deploy/nginx/hospital.conf, TLS) on PostgreSQL: the
patient's journey (register … dispense, without the video call) runs across them with consecutive requests on
different replicas (each response names its replica), and killing one mid-journey loses nothing: the tokens,
practice sessions and state it made are the other's too (one database, one shared token key).

The replicas run with the test settings (HOSPITAL_ENV=test), not production: production's start checks (REC-03
PostgreSQL over TLS, SUP-01 a platform, INS-03 the hospital's own disclosure) are proved where they are made
(tests/unit/core/test_residency.py, tests/unit/core/test_config_and_crypto.py,
tests/integration/connector/test_platform_gate.py), and the local PostgreSQL offers no TLS, so
`?ssl=require` could not connect here. nginx terminates TLS as in production (deploy/nginx/hospital.conf)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bench._cluster import nginx, replicas
from bench._journey import Journey, Recorder, clinicians, patient_journey, publish_schedule
from hospital.config import Settings
from hospital.core.audit import verify_chain
from hospital.core.outbox import OutboxEvent
from hospital.prescriptions.models import Dispensing

FACES = Path(os.environ["HOSPITAL_SHARED_DIR"]) / "faces"


def replica(header: str) -> str:
    return header.split(":", 1)[0]  # "app-1:4242" → app-1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_the_journey_runs_across_two_replicas_behind_nginx_and_one_dying_loses_nothing(
    settings: Settings, demo: None, session: AsyncSession, tmp_path: Path
) -> None:
    with replicas(settings.resolved_database_url, settings.data_dir) as apps, \
            nginx([app.port for app in apps], tmp_path / "nginx") as edge:
        async with httpx.AsyncClient(base_url=edge.url, verify=edge.ssl_context, timeout=120) as client:
            doctor, pharmacist = clinicians(FACES)
            setup = Recorder()
            journey = Journey(await publish_schedule(client, doctor, setup, capacity=10), doctor, pharmacist)

            first = Recorder()
            await patient_journey(client, journey, 1, first)
            landed = [replica(r) for r in first.replicas]
            assert set(landed) == {"app-1", "app-2"}
            # Round robin, no stickiness: one request here, the next there (a token from one replica is good at
            # the other, a practice session opened on one is honoured by the other).
            assert all(a != b for a, b in itertools.pairwise(landed)), landed

            second = Recorder()
            killed_at: list[int] = []

            async def kill_app_1_after_the_emr(step: str) -> None:
                if step == "emr":
                    apps[0].kill()
                    killed_at.append(len(second.replicas))

            await patient_journey(client, journey, 2, second, between=kill_app_1_after_the_emr)
            before_kill = [replica(r) for r in second.replicas[:killed_at[0]]]
            after_kill = [replica(r) for r in second.replicas[killed_at[0]:]]
            assert set(before_kill) == {"app-1", "app-2"}
            # Sign-off, prescription (a signature), review and dispensing: all served by the survivor.
            assert len(after_kill) >= 4 and set(after_kill) == {"app-2"}

    # Nothing lost: both journeys are complete in the database, the audit chain is whole, every event is there.
    assert (await session.execute(select(func.count()).select_from(Dispensing))).scalar_one() == 2
    checked, broken = await verify_chain(session)
    assert broken is None and checked > 0
    dispensed = (await session.execute(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.event_type == "dispensing.dispensed"))).scalar_one()  # type: ignore[arg-type]
    assert dispensed == 2
