"""Agencies and their systems.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=32), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "ministry",
                "organization",
                "subsidiary",
                "company",
                "judiciary",
                "other",
                name="agencykind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("description_fa", sa.Text(), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("contact_email", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column(
            "connection_status",
            sa.Enum(
                "not_connected",
                "connected",
                "standard_lost",
                "disconnected",
                name="connectionstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["agency.id"], name=op.f("fk_agency_parent_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
        sa.UniqueConstraint("code", name=op.f("uq_agency_code")),
    )
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "agency_system",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("openapi_url", sa.String(length=300), nullable=True),
        sa.Column("health_url", sa.String(length=300), nullable=True),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_system_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_system")),
        sa.UniqueConstraint("code", name=op.f("uq_agency_system_code")),
    )
    with op.batch_alter_table("agency_system", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_system_agency_id"), ["agency_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agency_system", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_system_agency_id"))

    op.drop_table("agency_system")
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_parent_id"))

    op.drop_table("agency")
