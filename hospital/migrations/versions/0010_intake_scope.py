"""intake-scope: the prior diagnosis as evidence (institution kind and 登记号, name finding), a visit stopped by
its record's diagnosis, the guardian's presence at start, a guardian's consent, schedule withdrawal (停诊) and
the two-administrator service stop

Revision ID: 0010_intake_scope
Revises: 0009_security
Create Date: 2026-12-03 08:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0010_intake_scope'
down_revision: str | None = '0009_security'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('prior_diagnosis') as batch:
        batch.add_column(sa.Column('institution_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                   server_default='physical'))
        batch.add_column(sa.Column('institution_registration_number', sqlmodel.sql.sqltypes.AutoString(),
                                   nullable=False, server_default=''))
        batch.add_column(sa.Column('name_finding', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('consent_record') as batch:
        batch.add_column(sa.Column('accepted_by_guardian', sa.JSON(), nullable=True))
    with op.batch_alter_table('schedule') as batch:
        batch.add_column(sa.Column('withdrawn_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('withdrawn_at', hospital.core.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table('visit') as batch:
        batch.add_column(sa.Column('stopped', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('name_resolution', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('guardian_presence_confirmed_at', hospital.core.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('notice', sa.JSON(), nullable=True))
    with op.batch_alter_table('service_stop') as batch:
        batch.add_column(sa.Column('reason_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch.add_column(sa.Column('confirmed_at', hospital.core.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('confirmed_by_user_id', sa.Uuid(), nullable=True))
        batch.create_foreign_key('fk_service_stop_confirmed_by', 'user_account', ['confirmed_by_user_id'], ['id'])
    with op.batch_alter_table('department') as batch:
        batch.add_column(sa.Column('senior_physicians', sa.JSON(), nullable=True))
    # Stops recorded before this revision were in force at once: they count as confirmed when made.
    op.execute("UPDATE service_stop SET confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('department') as batch:
        batch.drop_column('senior_physicians')
    with op.batch_alter_table('service_stop') as batch:
        batch.drop_constraint('fk_service_stop_confirmed_by', type_='foreignkey')
        batch.drop_column('confirmed_by_user_id')
        batch.drop_column('confirmed_at')
        batch.drop_column('reason_code')
    with op.batch_alter_table('visit') as batch:
        for column in ('notice', 'guardian_presence_confirmed_at', 'name_resolution', 'stopped'):
            batch.drop_column(column)
    with op.batch_alter_table('schedule') as batch:
        batch.drop_column('withdrawn_at')
        batch.drop_column('withdrawn_reason')
    with op.batch_alter_table('consent_record') as batch:
        batch.drop_column('accepted_by_guardian')
    with op.batch_alter_table('prior_diagnosis') as batch:
        batch.drop_column('name_finding')
        batch.drop_column('institution_registration_number')
        batch.drop_column('institution_kind')
