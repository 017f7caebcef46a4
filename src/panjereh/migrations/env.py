"""Alembic environment: migrate the engine the caller passes, against the whole model metadata."""

from __future__ import annotations

from alembic import context

from panjereh.metadata import metadata

config = context.config


def run() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run()
