"""REC-03 for the outbox: after a whole real day, no event keeps an ID number, a patient's name, a diagnosis or
a patient's or clinician's words in clear; the connector opens them all again for the platform."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from hospital.config import Settings
from hospital.demo import DEMO_PATIENT
from tests.conftest import FakeClock
from tests.helpers import event_payload
from tests.integration.connector.conftest import fresh_outbox
from tests.integration.connector.real_day import a_whole_visit, the_other_endings
from tests.integration.visits.journey import EMR

pytestmark = pytest.mark.requirement("REC-03")

DOCTOR_ID_NUMBER, PHARMACIST_ID_NUMBER = "110105198001011238", "110105198505052228"


async def test_no_outbox_event_keeps_people_or_clinical_text_in_clear(
    china_after_midnight: datetime, client: AsyncTestClient[Any], clock: FakeClock, settings: Settings, demo: None
) -> None:
    await a_whole_visit(client, clock)
    await the_other_endings(client)
    events = await fresh_outbox(settings)
    secrets = [DEMO_PATIENT.id_number, DEMO_PATIENT.real_name, DOCTOR_ID_NUMBER, PHARMACIST_ID_NUMBER,
               EMR["chief_complaint"], EMR["present_illness"], EMR["diagnosis_name"], EMR["treatment_advice"],
               "很好", "等候时间较长", "服药后轻度头晕", "剂量偏低"]
    stored = {e.seq: json.dumps(e.payload, ensure_ascii=False) for e in events}
    leaks = [(e.event_type, s) for e in events for s in secrets if s in stored[e.seq]]
    assert not leaks, leaks
    # …and nothing is lost: each of them is in some event once opened with the field key.
    opened = " ".join(json.dumps(event_payload(e, settings), ensure_ascii=False) for e in events)
    assert [s for s in secrets if s not in opened] == []
