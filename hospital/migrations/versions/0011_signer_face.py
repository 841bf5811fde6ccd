"""signer-face: a revoked certificate's invalidity date (suspension is not forgery); liveness challenges and
the frames seen (FACE-02); each signature's RFC 3161 time-stamp token

Revision ID: 0011_signer_face
Revises: 0010_intake_scope
Create Date: 2026-12-03 07:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hospital.core.types

revision: str = '0011_signer_face'
down_revision: str | None = '0010_intake_scope'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clinician_credential') as batch:
        batch.add_column(sa.Column('invalid_since', hospital.core.types.UTCDateTime(), nullable=True))
    op.create_table('face_challenge',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=True),
    sa.Column('nonce_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expires_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('answered_at', hospital.core.types.UTCDateTime(), nullable=True),
    sa.Column('verification_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['verification_id'], ['face_verification.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_face_challenge_user_id'), 'face_challenge', ['user_id'], unique=False)
    op.create_table('face_frame_seen',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('challenge_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['face_challenge.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    op.create_index(op.f('ix_face_frame_seen_challenge_id'), 'face_frame_seen', ['challenge_id'], unique=False)
    op.create_table('signature_timestamp',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('jws_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=False),
    sa.Column('gen_time', hospital.core.types.UTCDateTime(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('jws_sha256')
    )


def downgrade() -> None:
    op.drop_table('signature_timestamp')
    op.drop_index(op.f('ix_face_frame_seen_challenge_id'), table_name='face_frame_seen')
    op.drop_table('face_frame_seen')
    op.drop_index(op.f('ix_face_challenge_user_id'), table_name='face_challenge')
    op.drop_table('face_challenge')
    with op.batch_alter_table('clinician_credential') as batch:
        batch.drop_column('invalid_since')
