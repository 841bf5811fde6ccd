"""audit-sessions: log-in sessions every token is checked against on every request (SEC-01)

Revision ID: 0012_audit_sessions
Revises: 0011_signer_face
Create Date: 2026-12-03 07:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0012_audit_sessions'
down_revision: str | None = '0011_signer_face'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auth_session',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('authenticated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('oldest_valid', sa.Integer(), nullable=False),
    sa.Column('ended_at', hospital.core.types.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_auth_session_user_id'), 'auth_session', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_auth_session_user_id'), table_name='auth_session')
    op.drop_table('auth_session')
