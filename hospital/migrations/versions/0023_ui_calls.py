"""ui_calls: when a pick-up was collected at the pharmacy (RX-08)

Revision ID: 0023_ui_calls
Revises: 0022_media_worker
Create Date: 2026-12-03 18:10:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hospital.core.types

revision: str = '0023_ui_calls'
down_revision: str | None = '0022_media_worker'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('dispensing') as batch:
        batch.add_column(sa.Column('collected_at', hospital.core.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('dispensing') as batch:
        batch.drop_column('collected_at')
