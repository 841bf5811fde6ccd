"""production: the job lease row (retention purge, security scan, backup: one runner at a time)

Revision ID: 0014_production
Revises: 0013_audit_sessions_chain
Create Date: 2026-12-03 07:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0014_production'
down_revision: str | None = '0013_audit_sessions_chain'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('acquired_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('until', hospital.core.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('job_lease')
