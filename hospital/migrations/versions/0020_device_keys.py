"""device keys: clinicians sign on their own devices; the keys the server held are revoked and deleted (RX-05,
电子签名法 第十三条)

Every unrevoked server-held credential is revoked as superseded with its invalidity date now, so what it signed
before keeps verifying (chain.py: superseded is not a compromise); its encrypted private key is deleted with
the column. The CA's CRL is marked due, so the first use after the upgrade issues a CRL listing them. Several
devices per clinician: the one-active-credential index goes.

Revision ID: 0020_device_keys
Revises: 0019_rx_finish
Create Date: 2026-12-03 14:30:00
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hospital.core.types import UTCDateTime

revision: str = '0020_device_keys'
down_revision: str | None = '0019_rx_finish'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ACTIVE = sa.text('revoked_at IS NULL')
_EMPTY_BLOB = {'sqlite': "X''", 'postgresql': "'\\x'::bytea"}


def upgrade() -> None:
    now = datetime.now(UTC)  # migration time: not request time, no hospital clock here
    credential = sa.table('clinician_credential', sa.column('revoked_at', UTCDateTime()),
                          sa.column('revocation_reason', sa.String()),
                          sa.column('invalid_since', UTCDateTime()),
                          sa.column('updated_at', UTCDateTime()))
    authority = sa.table('signing_authority', sa.column('name', sa.String()),
                         sa.column('crl_next_update', UTCDateTime()))
    op.execute(credential.update().where(credential.c.revoked_at.is_(None)).values(
        revoked_at=now, revocation_reason='superseded', invalid_since=now, updated_at=now))
    op.execute(authority.update().where(authority.c.name == 'hospital-root').values(crl_next_update=None))
    with op.batch_alter_table('clinician_credential', schema=None) as batch_op:
        batch_op.drop_index('uq_clinician_credential_active', sqlite_where=_ACTIVE, postgresql_where=_ACTIVE)
        batch_op.drop_column('private_key_sealed')
        batch_op.add_column(sa.Column('device_name', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('public_key_sha256', sa.String(), nullable=True))
        batch_op.create_unique_constraint('uq_clinician_credential_public_key_sha256', ['public_key_sha256'])


def downgrade() -> None:
    # The deleted keys do not come back: a downgraded hospital has every old credential revoked and must issue
    # new ones; the device credentials are revoked too, since the old code could not use them.
    with op.batch_alter_table('clinician_credential', schema=None) as batch_op:
        batch_op.drop_constraint('uq_clinician_credential_public_key_sha256', type_='unique')
        batch_op.drop_column('public_key_sha256')
        batch_op.drop_column('device_name')
        # server_default takes SQL text, not bytes: an empty blob, spelled per dialect (X'' is a bit string in PostgreSQL)
        batch_op.add_column(sa.Column('private_key_sealed', sa.LargeBinary(), nullable=False,
                                      server_default=sa.text(_EMPTY_BLOB[op.get_bind().dialect.name])))
    now = datetime.now(UTC)
    credential = sa.table('clinician_credential', sa.column('revoked_at', UTCDateTime()),
                          sa.column('revocation_reason', sa.String()),
                          sa.column('invalid_since', UTCDateTime()))
    op.execute(credential.update().where(credential.c.revoked_at.is_(None)).values(
        revoked_at=now, revocation_reason='superseded', invalid_since=now))
    with op.batch_alter_table('clinician_credential', schema=None) as batch_op:
        batch_op.create_index('uq_clinician_credential_active', ['user_id'], unique=True, sqlite_where=_ACTIVE,
                              postgresql_where=_ACTIVE)
