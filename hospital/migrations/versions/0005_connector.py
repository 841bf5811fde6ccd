"""connector: dispatcher state in the outbox (route, business ID, dependencies, lease)

Revision ID: 0005_connector
Revises: 0003
Create Date: 2026-11-23 06:27:16.827083
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0005_connector'
down_revision: str | None = '0007_prescriptions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('business_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('depends_on', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('lease_until', hospital.core.types.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_outbox_subject_seq', ['subject_id', 'seq'], unique=False)
        batch_op.create_index('ix_outbox_undelivered_seq', ['seq'], unique=False,
                              postgresql_where=sa.text("status IN ('pending', 'retrying')"),
                              sqlite_where=sa.text("status IN ('pending', 'retrying')"))


def downgrade() -> None:
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_undelivered_seq')
        batch_op.drop_index('ix_outbox_subject_seq')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lease_owner')
        batch_op.drop_column('depends_on')
        batch_op.drop_column('business_id')
        batch_op.drop_column('method')
