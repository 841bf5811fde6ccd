"""signer-face: a revoked certificate's invalidity date (suspension is not forgery)

Revision ID: 0010_signer_face
Revises: 0009_security
Create Date: 2026-12-03 07:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hospital.core.types

revision: str = '0010_signer_face'
down_revision: str | None = '0009_security'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clinician_credential') as batch:
        batch.add_column(sa.Column('invalid_since', hospital.core.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clinician_credential') as batch:
        batch.drop_column('invalid_since')
