"""ui journey: a visit's price is its mode's published fee (INS-03): schedules lose their own price and the
visit records the fee the patient accepted; a prior diagnosis can be withdrawn while unused (REV-01)

Revision ID: 0017_ui_journey
Revises: 0016_contract
Create Date: 2026-12-03 14:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0017_ui_journey'
down_revision: str | None = '0016_contract'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_column('price_cny')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_cny', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('fee_accepted_at', hospital.core.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table('prior_diagnosis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', hospital.core.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('prior_diagnosis', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('fee_accepted_at')
        batch_op.drop_column('fee_cny')
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_cny', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='0.00'))
