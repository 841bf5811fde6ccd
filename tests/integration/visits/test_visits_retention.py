"""Retention (REC-02) on both databases: nothing is purged before its date; chat goes after 3 years, the EMR
after 15, a document goes only when no record names it, and the audit trail stays."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hospital.config import Settings
from hospital.context import HospitalContext
from hospital.core.audit import Actor, AuditEntry, verify_chain
from hospital.core.blobs import Blob
from hospital.core.clock import CHINA_TIME
from hospital.retention.cli import retention
from hospital.retention.service import purge_due
from hospital.visits.booking.models import Visit
from hospital.visits.encounter.models import ChatMessage, MedicalRecord
from hospital.visits.intake.models import PriorDiagnosisRecord
from tests.conftest import FakeClock
from tests.helpers import count_rows, hospital_today, login_as
from tests.integration.visits.journey import EMR, accept, book, demo_prior_id, doctor_in_session, file_prior, pdf, schedule_of
from tests.signing import signed_post

pytestmark = pytest.mark.requirement("REC-02")


async def visit_with_chat(client: AsyncTestClient[Any], *, complete: bool) -> str:
    patient = await login_as(client, "patient")
    booked = await book(client, patient, (await schedule_of(client))["schedule_id"], await demo_prior_id(client, patient))
    visit_id = str(booked.json()["visit_id"])
    doctor = await doctor_in_session(client)
    await accept(client, doctor, visit_id)
    await client.post(f"/api/visits/{visit_id}/start", headers=doctor)
    sent = await client.post(f"/api/visits/{visit_id}/messages", headers=patient, json={"body": "血压稳定"})
    assert sent.status_code == 201
    if complete:
        await client.put(f"/api/visits/{visit_id}/medical-record", headers=doctor, json=EMR)
        await signed_post(client, f"/api/visits/{visit_id}/medical-record/sign-off", doctor)
        assert (await client.post(f"/api/visits/{visit_id}/complete", headers=doctor)).status_code == 200
    return visit_id


def noon_on(day: date) -> datetime:
    return datetime.combine(day, time(12), CHINA_TIME)


async def purge_on(session: AsyncSession, ctx: HospitalContext, clock: FakeClock, day: date) -> set[str]:
    clock.current = noon_on(day)
    report = await purge_due(session, ctx, Actor.system("test-retention"))
    return {d.kind for d in report.due}


async def test_nothing_is_purged_before_its_date_and_what_is_due_is_purged_on_it(
    client: AsyncTestClient[Any], session: AsyncSession, ctx: HospitalContext, clock: FakeClock, demo: None
) -> None:
    await visit_with_chat(client, complete=True)
    loose = await file_prior(client, await login_as(client, "patient"), document=pdf("never booked against"))
    loose_sha = loose.json()["document_sha256"]
    chat_date = (await session.execute(select(col(ChatMessage.purge_not_before)))).scalar_one()
    emr_date = (await session.execute(select(col(MedicalRecord.purge_not_before)))).scalar_one()
    await session.rollback()
    assert emr_date is not None and chat_date < emr_date
    tables = (ChatMessage, MedicalRecord, PriorDiagnosisRecord, Blob, Visit)
    kept = await count_rows(session, *tables)
    audit_before = (await count_rows(session, AuditEntry))["audit_entry"]

    assert await purge_on(session, ctx, clock, chat_date - timedelta(days=1)) == set()
    assert await count_rows(session, *tables) == kept  # a day early: nothing

    assert await purge_on(session, ctx, clock, chat_date) == {"chat_message"}
    after_chat = await count_rows(session, *tables)
    assert after_chat == {**kept, "chat_message": 0}

    assert await purge_on(session, ctx, clock, emr_date - timedelta(days=1)) == set()
    assert await count_rows(session, *tables) == after_chat

    assert await purge_on(session, ctx, clock, emr_date + timedelta(days=1)) == {"medical_record", "prior_diagnosis", "blob"}
    left = await count_rows(session, *tables)
    # the visit's own prior diagnosis and its document are held by the visit; the loose one is gone
    assert left == {**after_chat, "medical_record": 0, "prior_diagnosis": kept["prior_diagnosis"] - 1,
                    "blob": kept["blob"] - 1}
    assert await session.get(Blob, loose_sha) is None and not ctx.blob_store()._path(loose_sha).exists()
    assert (await count_rows(session, Visit))["visit"] == 1
    purges = (await session.execute(select(AuditEntry).where(AuditEntry.action == "retention.purged"))).scalars().all()
    assert {p.subject_type for p in purges} == {"chat_message", "medical_record", "prior_diagnosis", "blob"}
    assert (await count_rows(session, AuditEntry))["audit_entry"] == audit_before + len(purges)  # the trail stays
    _, broken = await verify_chain(session)
    assert broken is None


async def test_the_retention_command_lists_what_is_due_and_never_purges_ahead_of_today(
    client: AsyncTestClient[Any], session: AsyncSession, settings: Settings, demo: None
) -> None:
    await visit_with_chat(client, complete=False)
    env = {"HOSPITAL_DATABASE_URL": settings.resolved_database_url, "HOSPITAL_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()

    def run(*args: str) -> Any:
        return asyncio.to_thread(runner.invoke, retention, ["purge", *args], env=env)

    in_three_years = (hospital_today() + timedelta(days=3 * 366)).isoformat()
    listed = await run("--dry-run", "--as-of", in_three_years, "--json")
    assert listed.exit_code == 0, listed.output
    report = json.loads(listed.output)
    assert report["executed"] is False and [d["kind"] for d in report["due"]] == ["chat_message"]
    held = {h["held_by"] for h in report["held"]}
    assert held == set()  # documents are not due for 15 years
    refused = await run("--execute", "--as-of", in_three_years)
    assert refused.exit_code == 2 and "--as-of is for dry runs" in refused.output
    today = await run("--execute")
    assert today.exit_code == 0 and "0 purged" in today.output
    assert (await count_rows(session, ChatMessage))["chat_message"] == 1
    readable = await run("--as-of", in_three_years)
    assert "due     chat_message" in readable.output and "dry run: nothing purged" in readable.output
