"""delivery: the patient's pick-up or delivery choice per prescription, the address sealed (RX-08, SEC-01)

Revision ID: 0021_delivery
Revises: 0020_device_keys
Create Date: 2026-12-03 15:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0021_delivery'
down_revision: str | None = '0020_device_keys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('delivery_choice',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('prescription_id', sa.Uuid(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('address_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('chosen_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescription.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prescription_id')
    )


def downgrade() -> None:
    op.drop_table('delivery_choice')
