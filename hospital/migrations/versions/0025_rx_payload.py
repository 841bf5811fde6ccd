"""rx_payload: every patient gets a medical record number (病历号) for the readable signed prescription (issue 19)

Existing patients are numbered here, each with a fresh random number in the same form registration uses
(`hospital.patients.service.new_medical_record_number`), then the column becomes required and unique.

Revision ID: 0025_rx_payload
Revises: 0024_login_limit
Create Date: 2026-12-03 18:10:00.000000
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0025_rx_payload'
down_revision: str | None = '0024_login_limit'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('medical_record_number', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    bind = op.get_bind()
    patient = sa.table('patient', sa.column('id', sa.Uuid()), sa.column('medical_record_number', sa.String()))
    taken: set[str] = set()
    for (patient_id,) in bind.execute(sa.select(patient.c.id)).all():
        number = f"MR{secrets.randbelow(10**10):010d}"
        while number in taken:
            number = f"MR{secrets.randbelow(10**10):010d}"
        taken.add(number)
        bind.execute(patient.update().where(patient.c.id == patient_id).values(medical_record_number=number))
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.alter_column('medical_record_number', existing_type=sqlmodel.sql.sqltypes.AutoString(),
                              nullable=False)
        batch_op.create_unique_constraint('uq_patient_medical_record_number', ['medical_record_number'])


def downgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_constraint('uq_patient_medical_record_number', type_='unique')
        batch_op.drop_column('medical_record_number')
