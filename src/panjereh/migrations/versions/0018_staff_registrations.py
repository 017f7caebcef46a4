"""Staff: registrations from the workspace (sandbox at once, production after an operator's approval); the
officers of delivery become staff memberships with the role officer (`delivery_officer` is gone).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_registration",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "data_service",
                "oidc_client",
                "exchange_client",
                name="registrationkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "environment",
            sa.Enum("sandbox", "production", name="environment", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum("active", "pending", "refused", name="registrationstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("requested_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_registration")),
    )
    with op.batch_alter_table("staff_registration", schema=None) as batch_op:
        batch_op.create_index("ix_staff_registration_agency", ["agency_code", "kind"], unique=False)
        batch_op.create_index("ix_staff_registration_state", ["state"], unique=False)
    # Every officer keeps their queue: one officer membership per row of the old table.
    op.execute(
        "INSERT INTO staff_membership (id, national_code, agency_code, role, granted_by, created_at) "
        "SELECT id, national_code, agency_code, 'officer', 'system', created_at FROM delivery_officer"
    )
    with op.batch_alter_table("delivery_officer", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_officer_agency_code")
    op.drop_table("delivery_officer")


def downgrade() -> None:
    op.create_table(
        "delivery_officer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("national_code", sa.String(length=10), nullable=False),
        sa.Column("agency_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_officer")),
        sa.UniqueConstraint("national_code", name=op.f("uq_delivery_officer_national_code")),
    )
    with op.batch_alter_table("delivery_officer", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_officer_agency_code", ["agency_code"], unique=False)
    # One queue per officer in the old table: the earliest of a person's officer memberships.
    op.execute(
        "INSERT INTO delivery_officer (id, national_code, agency_code, name, created_at, updated_at) "
        "SELECT m.id, m.national_code, m.agency_code, 'officer', m.created_at, m.created_at "
        "FROM staff_membership m WHERE m.role = 'officer' AND m.revoked_at IS NULL "
        "AND m.agency_code IS NOT NULL "
        "AND m.created_at = (SELECT MIN(o.created_at) FROM staff_membership o WHERE o.role = 'officer' "
        "AND o.revoked_at IS NULL AND o.national_code = m.national_code)"
    )
    op.execute("DELETE FROM staff_membership WHERE role = 'officer'")
    with op.batch_alter_table("staff_registration", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_registration_state")
        batch_op.drop_index("ix_staff_registration_agency")
    op.drop_table("staff_registration")
