"""rx finish: the pharmacist's claim on a pending prescription (RX-06), a rejection's coded reasons (处方点评),
the recorded double check of high-alert drugs

Revision ID: 0019_rx_finish
Revises: 0018_intake_finish
Create Date: 2026-12-03 14:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hospital.core.types

revision: str = '0019_rx_finish'
down_revision: str | None = '0018_intake_finish'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('prescription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by_user_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', hospital.core.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_prescription_claimed_by_user_id'), ['claimed_by_user_id'], unique=False)
        batch_op.create_foreign_key('fk_prescription_claimed_by_user_id', 'user_account', ['claimed_by_user_id'],
                                    ['id'])
    with op.batch_alter_table('prescription_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_codes', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('double_checks', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('prescription_review', schema=None) as batch_op:
        batch_op.drop_column('double_checks')
        batch_op.drop_column('reason_codes')
    with op.batch_alter_table('prescription', schema=None) as batch_op:
        batch_op.drop_constraint('fk_prescription_claimed_by_user_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_prescription_claimed_by_user_id'))
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by_user_id')
