"""Delivery: service definitions become versioned data (draft, in review, published, retired).

The `active` flag becomes the `published` status; each version records who wrote, submitted, reviewed,
published and retired it. Versions are numbered per slug (existing rows renumbered in load order), and at
most one version of a slug is published (a partial unique index).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import panjereh.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STATUS = sa.Enum(
    "draft", "in_review", "published", "retired", name="definitionstatus", native_enum=False, length=20
)
WHO = "import:migration"


def upgrade() -> None:
    with op.batch_alter_table("delivery_definition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", STATUS, nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("updated_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("submitted_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("published_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("retired_by", sa.String(length=120), nullable=True))
        for name in ("created_at", "updated_at"):
            batch_op.add_column(sa.Column(name, panjereh.core.db.UTCDateTime(timezone=True), nullable=True))
        for name in ("submitted_at", "reviewed_at", "published_at", "retired_at"):
            batch_op.add_column(sa.Column(name, panjereh.core.db.UTCDateTime(timezone=True), nullable=True))

    table = sa.table(
        "delivery_definition",
        sa.column("id", sa.String),
        sa.column("slug", sa.String),
        sa.column("version", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("loaded_at", panjereh.core.db.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(table.c.id, table.c.slug, table.c.active).order_by(table.c.slug, table.c.loaded_at)
    ).all()
    numbers: dict[str, int] = {}
    for row_id, slug, active in rows:
        numbers[slug] = numbers.get(slug, 0) + 1
        connection.execute(
            sa.text(
                "UPDATE delivery_definition SET version = :version, status = :status,"
                " created_by = :who, updated_by = :who, published_by = :who, created_at = loaded_at,"
                " updated_at = loaded_at, published_at = loaded_at WHERE id = :id"
            ),
            {
                "version": numbers[slug],
                "status": "published" if active else "retired",
                "who": WHO,
                "id": row_id,
            },
        )

    with op.batch_alter_table("delivery_definition", schema=None) as batch_op:
        for name in ("status", "created_by", "updated_by", "created_at", "updated_at"):
            batch_op.alter_column(name, nullable=False)
        batch_op.drop_constraint("uq_delivery_definition_slug_digest", type_="unique")
        batch_op.drop_column("active")
        batch_op.drop_column("loaded_at")
        batch_op.create_unique_constraint("uq_delivery_definition_slug_version", ["slug", "version"])
        batch_op.create_index(
            "uq_delivery_definition_published_slug",
            ["slug"],
            unique=True,
            sqlite_where=sa.text("status = 'published'"),
            postgresql_where=sa.text("status = 'published'"),
        )
        batch_op.create_index("ix_delivery_definition_agency_status", ["agency_code", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_definition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column("loaded_at", panjereh.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE delivery_definition SET active = (status = 'published'), loaded_at = created_at")
    # Drafts never decided anything; they do not survive the way back.
    op.execute("DELETE FROM delivery_definition WHERE status IN ('draft', 'in_review')")
    with op.batch_alter_table("delivery_definition", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_definition_agency_status")
        batch_op.drop_index("uq_delivery_definition_published_slug")
        batch_op.drop_constraint("uq_delivery_definition_slug_version", type_="unique")
        batch_op.alter_column("active", nullable=False)
        batch_op.alter_column("loaded_at", nullable=False)
        for name in (
            "retired_at",
            "published_at",
            "reviewed_at",
            "submitted_at",
            "updated_at",
            "created_at",
            "retired_by",
            "published_by",
            "review_note",
            "reviewed_by",
            "submitted_by",
            "updated_by",
            "created_by",
            "status",
        ):
            batch_op.drop_column(name)
        batch_op.create_unique_constraint("uq_delivery_definition_slug_digest", ["slug", "digest"])
