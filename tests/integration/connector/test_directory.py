"""The connector's directory of people (directory.py): ID numbers opened once and cached, and an id that names
no one asked of the database once, not every round (a backlog naming such ids would otherwise cost a query per
round)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event

from connectors.supervision.directory import Directory
from hospital.config import Settings
from hospital.core.crypto import FieldCipher
from hospital.db import create_engine, session_factory
from hospital.demo import DEMO_PATIENT
from tests.integration.connector.conftest import demo_people


async def test_people_are_looked_up_once_and_so_are_ids_that_name_no_one(demo: None, settings: Settings) -> None:
    people = await demo_people(settings)
    engine = create_engine(settings.resolved_database_url, immediate=False)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(str(args[2])))
    try:
        directory = Directory(session_factory(engine), FieldCipher(settings.field_key))
        nobody = str(uuid.uuid4())
        payloads: list[dict[str, Any]] = [{"patient_id": people.patient_id, "doctor_user_id": people.doctor_user_id},
                                          {"staff_id": nobody}]
        await directory.prepare(payloads)
        first = len(statements)
        assert first > 0
        patient = directory.patient(patient_id=people.patient_id)
        assert patient is not None and patient.id_number == DEMO_PATIENT.id_number
        assert directory.staff(staff_id=nobody) is None
        await directory.prepare(payloads)
        assert len(statements) == first  # nothing asked again: the people are cached, the absent id remembered
        directory.forget()  # a refusal: read everything afresh, the absent id too
        await directory.prepare(payloads)
        assert len(statements) > first and any("staff_member" in s for s in statements[first:])
    finally:
        await engine.dispose()
