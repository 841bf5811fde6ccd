"""audit-sessions: the audit trail is append-only on PostgreSQL (AUD-01); expired entries go only through
hospital_audit_purge, and only those past the trail's 15-year retention

Revision ID: 0013_audit_sessions_chain
Revises: 0012_audit_sessions
Create Date: 2026-12-03 08:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0013_audit_sessions_chain'
down_revision: str | None = '0012_audit_sessions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The trigger refuses every UPDATE, DELETE and TRUNCATE of audit_entry. The one exception is a DELETE of an entry
# older than 15 years while hospital.audit_purge_before is set (hospital_audit_purge sets it for its own statement):
# even a session that sets the variable itself removes nothing younger than the retention. `at` is naive UTC.
APPEND_ONLY = ["""
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  purge_before text := current_setting('hospital.audit_purge_before', true);
BEGIN
  IF TG_OP = 'DELETE' AND coalesce(purge_before, '') <> ''
     AND OLD.at < least(purge_before::timestamp, (now() AT TIME ZONE 'UTC') - interval '15 years') THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_entry is append-only (AUD-01): % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$""", """
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
  FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()""", """
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()""", """
CREATE OR REPLACE FUNCTION hospital_audit_purge(cutoff timestamp) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  removed integer;
BEGIN
  PERFORM set_config('hospital.audit_purge_before', cutoff::text, true);
  DELETE FROM audit_entry WHERE at < cutoff;
  GET DIAGNOSTICS removed = ROW_COUNT;
  PERFORM set_config('hospital.audit_purge_before', '', true);
  RETURN removed;
END $$"""]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry")
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS hospital_audit_purge(timestamp)")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
