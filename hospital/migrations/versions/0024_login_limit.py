"""login-limit: log-in attempts per address and window, shared by every replica (SEC-01 rate limit)

Revision ID: 0024_login_limit
Revises: 0023_ui_calls
Create Date: 2026-12-03 18:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0024_login_limit'
down_revision: str | None = '0023_ui_calls'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_attempt_window',
    sa.Column('client_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('window_number', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('client_hash', 'window_number')
    )
    op.create_index(op.f('ix_login_attempt_window_window_number'), 'login_attempt_window', ['window_number'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_login_attempt_window_window_number'), table_name='login_attempt_window')
    op.drop_table('login_attempt_window')
