"""Staff: who works for which agency in which role (and the platform's operators), and the audit trail.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ROLES = ("administrator", "designer", "developer", "officer", "reviewer", "operator")


def upgrade() -> None:
    op.create_table(
        "staff_membership",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=True),
        sa.Column("role", sa.Enum(*ROLES, name="role", native_enum=False, length=20), nullable=False),
        sa.Column("granted_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_membership")),
    )
    with op.batch_alter_table("staff_membership", schema=None) as batch_op:
        batch_op.create_index("ix_staff_membership_agency", ["agency_code", "revoked_at"], unique=False)
        batch_op.create_index("ix_staff_membership_person", ["national_code", "revoked_at"], unique=False)
    op.create_table(
        "staff_audit_entry",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit_entry")),
    )
    with op.batch_alter_table("staff_audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_staff_audit_entry_agency_at", ["agency_code", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_audit_entry_agency_at")
    op.drop_table("staff_audit_entry")
    with op.batch_alter_table("staff_membership", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_membership_person")
        batch_op.drop_index("ix_staff_membership_agency")
    op.drop_table("staff_membership")
