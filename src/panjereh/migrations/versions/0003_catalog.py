"""The service catalog: service cards and their versions.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_card",
        sa.Column("service_id", sa.String(length=11), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("title_fa", sa.String(length=300), nullable=False),
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("description_fa", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("G2C", "G2B", "G2G", name="servicekind", native_enum=False, length=5),
            nullable=False,
        ),
        sa.Column(
            "life_event",
            sa.Enum(
                "birth",
                "education",
                "health",
                "tax",
                "business",
                "social_security",
                "property",
                "utilities",
                "insurance",
                "marriage",
                "retirement",
                "documents",
                "death",
                "other",
                name="lifeevent",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=120), nullable=False),
        sa.Column(
            "initiation",
            sa.Enum(
                "citizen_request",
                "date_reached",
                "event",
                "agency_decision",
                name="initiation",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("required_documents", sa.JSON(), nullable=False),
        sa.Column("in_person_visits", sa.Integer(), nullable=False),
        sa.Column("cost_rials", sa.BigInteger(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("offered_through_window", sa.Boolean(), nullable=False),
        sa.Column("window_url", sa.String(length=300), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("assurance_level", sa.Integer(), nullable=False),
        sa.Column("yearly_requests", sa.BigInteger(), nullable=False),
        sa.Column("declared_maturity_level", sa.Integer(), nullable=False),
        sa.Column("derived_maturity_level", sa.Integer(), nullable=True),
        sa.Column("derived_source", sa.String(length=200), nullable=True),
        sa.Column("derived_flags", sa.JSON(), nullable=False),
        sa.Column("derived_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_service_card_agency_id_agency")),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_card")),
        sa.UniqueConstraint("slug", name=op.f("uq_service_card_slug")),
    )
    with op.batch_alter_table("service_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_card_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_card_life_event"), ["life_event"], unique=False)

    op.create_table(
        "service_card_version",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.String(length=11), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service_card.service_id"],
            name=op.f("fk_service_card_version_service_id_service_card"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_card_version")),
        sa.UniqueConstraint("service_id", "version", name="uq_service_card_version_number"),
    )
    with op.batch_alter_table("service_card_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_card_version_service_id"), ["service_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_card_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_card_version_service_id"))

    op.drop_table("service_card_version")
    with op.batch_alter_table("service_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_card_life_event"))
        batch_op.drop_index(batch_op.f("ix_service_card_agency_id"))

    op.drop_table("service_card")
