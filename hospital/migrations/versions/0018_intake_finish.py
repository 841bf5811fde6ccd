"""intake finish: a paediatric doctor's countersignature of a child's prescription (REV-05, PD 17); the
clinician's own biometric consent (FACE-01), which a face enrolment needs before it takes effect

Existing enrolments keep their template but have no consent of the clinician's own (`consent_id` NULL): each
clinician gives it in their own session before practising again.

Revision ID: 0018_intake_finish
Revises: 0017_ui_journey
Create Date: 2026-12-03 14:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0018_intake_finish'
down_revision: str | None = '0017_ui_journey'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('biometric_consent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('given_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('client_address', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('withdrawn_at', hospital.core.types.UTCDateTime(), nullable=True),
    sa.Column('withdrawal_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('withdrawal_address', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('biometric_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_biometric_consent_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('face_enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key('fk_face_enrolment_consent_id', 'biometric_consent', ['consent_id'], ['id'])
        batch_op.alter_column('consent_at', existing_type=hospital.core.types.UTCDateTime(), nullable=True)
        batch_op.alter_column('consent_text', existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=True)

    op.create_table('prescription_countersignature',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('prescription_id', sa.Uuid(), nullable=False),
    sa.Column('doctor_user_id', sa.Uuid(), nullable=False),
    sa.Column('doctor_credential_id', sa.Uuid(), nullable=False),
    sa.Column('jws_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('countersigned_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('practice_session_id', sa.Uuid(), nullable=True),
    sa.Column('face_verified_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['doctor_credential_id'], ['clinician_credential.id'], ),
    sa.ForeignKeyConstraint(['doctor_user_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['prescription_id'], ['prescription.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prescription_id')
    )
    with op.batch_alter_table('prescription_countersignature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prescription_countersignature_doctor_user_id'), ['doctor_user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('prescription_countersignature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prescription_countersignature_doctor_user_id'))
    op.drop_table('prescription_countersignature')
    op.execute("UPDATE face_enrolment SET consent_at = created_at WHERE consent_at IS NULL")
    op.execute("UPDATE face_enrolment SET consent_text = '' WHERE consent_text IS NULL")
    with op.batch_alter_table('face_enrolment', schema=None) as batch_op:
        batch_op.alter_column('consent_text', existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False)
        batch_op.alter_column('consent_at', existing_type=hospital.core.types.UTCDateTime(), nullable=False)
        batch_op.drop_constraint('fk_face_enrolment_consent_id', type_='foreignkey')
        batch_op.drop_column('consent_id')
    with op.batch_alter_table('biometric_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_biometric_consent_user_id'))
    op.drop_table('biometric_consent')
