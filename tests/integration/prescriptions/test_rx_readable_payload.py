"""A prescription others can read (issue 19, RX-05): the export of a real prescription conforms to the published
JSON Schema of hospital-rx-export/2, and its signed payload names the patient by 病历号 and the hospital's keyed
hash of the ID number (never the number), the doctor by 执业证书编码, the department by code and name, each drug
by ATC code and 国药准字 (null where the formulary does not name it) with structured strength and pack, and
every time with its offset."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from hospital.context import HospitalContext
from hospital.institution.models import Department
from hospital.patients.models import Patient
from hospital.prescriptions.formulary.queries import formulary_of
from hospital.staff.models import StaffMember
from hospital.visits.booking.models import Visit
from tests.helpers import login_as
from tests.integration.prescriptions.helpers import approved

pytestmark = pytest.mark.requirement("RX-05")

SCHEMA = json.loads(Path(str(resources.files("hospital.conformance").joinpath(
    "examples", "hospital-rx-export-2.schema.json"))).read_text(encoding="utf-8"))


async def test_the_export_of_a_real_prescription_conforms_to_the_schema_and_reads_without_the_hospital(
    client: AsyncTestClient[Any], ctx: HospitalContext, session: AsyncSession, visit: Visit
) -> None:
    rx, _ = await approved(client, visit)
    bundle = (await client.get(f"/api/prescriptions/{rx['prescription_id']}/export",
                               headers=await login_as(client, "patient"))).json()
    jsonschema.validate(bundle, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert bundle["format"] == "hospital-rx-export/2"
    payload = bundle["prescription"]
    patient = await session.get(Patient, visit.patient_id)
    assert patient is not None
    id_number = ctx.cipher.open_text(patient.id_number_sealed, context="patient.id_number")
    assert payload["patient"]["medical_record_number"] == patient.medical_record_number
    assert payload["patient"]["id_number_hash"] == ctx.cipher.keyed_hash(id_number, context="id_number")
    assert id_number not in json.dumps(bundle, ensure_ascii=False)  # the clear number travels nowhere
    doctor = (await session.execute(select(StaffMember).where(StaffMember.user_id == visit.doctor_user_id))).scalar_one()
    practising = next(c["number"] for c in doctor.credentials if c["kind"] == "physician_practice")
    assert payload["doctor"]["practising_certificate_code"] == practising
    department = (await session.execute(select(Department).where(Department.code == visit.department_code))).scalar_one()
    assert payload["department"] == {"code": department.code, "name": department.name}
    item = payload["items"][0]
    drug = formulary_of(ctx).get(item["drug_code"])
    assert drug is not None
    assert item["atc_code"] == drug.atc_code and item["approval_number"] == drug.approval_number
    assert item["strength"] == {"value": format(drug.strength.normalize(), "f"), "unit": drug.strength_unit}
    assert item["pack"] == {"size": drug.pack_size, "unit": drug.dispensing_unit}
    for moment in (payload["issued_at"], payload["face_verification"]["verified_at"]):
        assert moment.endswith("+08:00"), moment  # the demo hospital keeps Beijing time (Settings.time_zone)


def test_the_schema_refuses_what_a_reader_could_not_use() -> None:
    """The schema is not decoration: a clear ID number, a strength as text or a time without its offset fail."""
    folder = Path(str(resources.files("hospital.conformance").joinpath("examples", "hospital-rx-export-2")))
    valid = json.loads((folder / "valid.json").read_text(encoding="utf-8"))
    jsonschema.validate(valid, SCHEMA)
    broken: list[dict[str, Any]] = []
    for change in (lambda p: p["patient"].update(id_number="110101197901010011"),
                   lambda p: p["items"][0].update(strength="5 mg"),
                   lambda p: p["items"][0].update(approval_number="H10950224"),
                   lambda p: p.update(issued_at=p["issued_at"][:-6])):
        copy = json.loads(json.dumps(valid))
        change(copy["prescription"])
        broken.append(copy)
    for bundle in broken:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bundle, SCHEMA)
