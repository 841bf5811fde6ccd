"""contract: clinical details sealed at rest (REC-03). The prior diagnosis's code, category, name, institution,
registration number and name finding move into prior_diagnosis.content_sealed; a consent's guardian into
consent_record.accepted_by_guardian_sealed; a visit's infectious-disease flag, referral, termination reason,
REV-03 stop and name resolution into visit.clinical_sealed, and its masked guardian view goes (visit.guardian_sealed holds it all);
medical_record.diagnosis_icd10 goes (the sealed record already carries the code).

Existing rows are sealed here with the hospital's field key (HOSPITAL_FIELD_KEY, as `hospital serve` reads it;
migrate with the same environment as the server),
each bound to its row as the application binds it; the downgrade opens them back into the clear columns.

Revision ID: 0016_contract
Revises: 0015_rx_safety
Create Date: 2026-12-03 14:40:00
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from hospital.config import load_settings
from hospital.core.crypto import FieldCipher

revision: str = '0016_contract'
down_revision: str | None = '0015_rx_safety'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRIOR = ("icd10_code", "icd10_category", "diagnosis_name", "institution_name", "institution_registration_number",
          "name_finding")
_VISIT = ("infectious_flag", "referral", "stopped", "name_resolution", "termination_reason")

_prior = sa.table("prior_diagnosis", sa.column("id", sa.Uuid()), sa.column("content_sealed", sa.LargeBinary()),
                  *(sa.column(c, sa.String()) for c in _PRIOR))
_consent = sa.table("consent_record", sa.column("id", sa.Uuid()), sa.column("accepted_by_guardian", sa.JSON()),
                    sa.column("accepted_by_guardian_sealed", sa.LargeBinary()))
_visit = sa.table("visit", sa.column("id", sa.Uuid()), sa.column("clinical_sealed", sa.LargeBinary()),
                  sa.column("guardian", sa.JSON()), sa.column("guardian_sealed", sa.LargeBinary()),
                  *(sa.column(c, sa.String() if c == "termination_reason" else sa.JSON()) for c in _VISIT))


def _cipher() -> FieldCipher:
    """The hospital's field key: the one the caller hands over (config.attributes["field_key"]), else the one
    `hospital serve` would read from the environment."""
    key = context.config.attributes.get("field_key") if context.config is not None else None
    return FieldCipher(key or load_settings().field_key)


def upgrade() -> None:
    with op.batch_alter_table('prior_diagnosis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sealed', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_by_guardian_sealed', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clinical_sealed', sa.LargeBinary(), nullable=True))

    bind, cipher = op.get_bind(), _cipher()
    for row in bind.execute(sa.select(_prior)).mappings().all():
        content = {c: row[c] for c in _PRIOR}
        content["institution_registration_number"] = content["institution_registration_number"] or ""
        bind.execute(_prior.update().where(_prior.c.id == row["id"]).values(
            content_sealed=cipher.seal_json(content, context=f"prior_diagnosis.content:{row['id']}")))
    for row in bind.execute(sa.select(_consent)).mappings().all():
        bind.execute(_consent.update().where(_consent.c.id == row["id"]).values(
            accepted_by_guardian_sealed=cipher.seal_json(row["accepted_by_guardian"],
                                                         context=f"consent_record.accepted_by_guardian:{row['id']}")))
    for row in bind.execute(sa.select(_visit)).mappings().all():
        values: dict[str, Any] = {"clinical_sealed": cipher.seal_json({c: row[c] for c in _VISIT},
                                                                      context=f"visit.clinical:{row['id']}")}
        if row["guardian_sealed"] is None and row["guardian"] is not None:  # only the masked view was kept
            values["guardian_sealed"] = cipher.seal_text(json.dumps(row["guardian"]), context="visit.guardian")
        bind.execute(_visit.update().where(_visit.c.id == row["id"]).values(**values))

    with op.batch_alter_table('prior_diagnosis', schema=None) as batch_op:
        batch_op.alter_column('content_sealed', existing_type=sa.LargeBinary(), nullable=False)
        for column in _PRIOR:
            batch_op.drop_column(column)
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_column('accepted_by_guardian')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('guardian')
        for column in _VISIT:
            batch_op.drop_column(column)
    with op.batch_alter_table('medical_record', schema=None) as batch_op:
        batch_op.drop_column('diagnosis_icd10')


def downgrade() -> None:
    with op.batch_alter_table('medical_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('diagnosis_icd10', sa.String(), nullable=True))
    bind, cipher = op.get_bind(), _cipher()
    records = sa.table("medical_record", sa.column("visit_id", sa.Uuid()), sa.column("content_sealed", sa.LargeBinary()),
                       sa.column("diagnosis_icd10", sa.String()))
    for row in bind.execute(sa.select(records)).mappings().all():
        content = json.loads(cipher.open(row["content_sealed"], context=f"medical_record:{row['visit_id']}"))
        bind.execute(records.update().where(records.c.visit_id == row["visit_id"]).values(
            diagnosis_icd10=content["diagnosis_icd10"]))
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guardian', sa.JSON(), nullable=True))
        for column in _VISIT:
            batch_op.add_column(sa.Column(column, sa.String() if column == "termination_reason" else sa.JSON(),
                                          nullable=True))
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_by_guardian', sa.JSON(), nullable=True))
    with op.batch_alter_table('prior_diagnosis', schema=None) as batch_op:
        for column in _PRIOR:
            batch_op.add_column(sa.Column(column, sa.String(), nullable=True))

    for row in bind.execute(sa.select(_prior)).mappings().all():
        content = cipher.open_json(row["content_sealed"], context=f"prior_diagnosis.content:{row['id']}")
        bind.execute(_prior.update().where(_prior.c.id == row["id"]).values(**{c: content[c] for c in _PRIOR}))
    for row in bind.execute(sa.select(_consent)).mappings().all():
        if row["accepted_by_guardian_sealed"] is not None:
            guardian = cipher.open_json(row["accepted_by_guardian_sealed"],
                                        context=f"consent_record.accepted_by_guardian:{row['id']}")
            bind.execute(_consent.update().where(_consent.c.id == row["id"]).values(accepted_by_guardian=guardian))
    for row in bind.execute(sa.select(_visit)).mappings().all():
        values: dict[str, Any] = {}
        if row["clinical_sealed"] is not None:
            values.update(cipher.open_json(row["clinical_sealed"], context=f"visit.clinical:{row['id']}"))
        if row["guardian_sealed"] is not None:
            details = json.loads(cipher.open_text(row["guardian_sealed"], context="visit.guardian"))
            number = str(details.get("id_number", ""))
            values["guardian"] = {"name": details.get("name"), "relationship": details.get("relationship"),
                                  "id_number": number[:6] + "*" * max(0, len(number) - 10) + number[-4:],
                                  "present_confirmed": details.get("present_confirmed")}
        if values:
            bind.execute(_visit.update().where(_visit.c.id == row["id"]).values(**values))

    with op.batch_alter_table('prior_diagnosis', schema=None) as batch_op:
        for column in ("icd10_code", "icd10_category", "diagnosis_name", "institution_name"):
            batch_op.alter_column(column, existing_type=sa.String(), nullable=False)
        batch_op.drop_column('content_sealed')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_column('accepted_by_guardian_sealed')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('clinical_sealed')
