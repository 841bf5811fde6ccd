"""media workers: the registered `hospital media-worker` processes with their leases, and each call's placement

Revision ID: 0022_media_worker
Revises: 0021_delivery
Create Date: 2026-12-03 18:10:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0022_media_worker'
down_revision: str | None = '0021_delivery'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('media_worker',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('started_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('lease_until', hospital.core.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_media_worker_lease_until'), 'media_worker', ['lease_until'], unique=False)
    op.create_table('call_placement',
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('worker_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('placed_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('placements', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], ),
    sa.PrimaryKeyConstraint('visit_id')
    )
    op.create_index(op.f('ix_call_placement_worker_id'), 'call_placement', ['worker_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_call_placement_worker_id'), table_name='call_placement')
    op.drop_table('call_placement')
    op.drop_index(op.f('ix_media_worker_lease_until'), table_name='media_worker')
    op.drop_table('media_worker')
