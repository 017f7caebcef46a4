"""Alembic environment: migrate the engine the caller passes, against the whole model metadata."""

from __future__ import annotations

from alembic import context

from panjereh.metadata import metadata

config = context.config


def run() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch alteration copies a table and drops the old one: with foreign keys on, the drop would
            # cascade into the rows that reference it (SQLite's own advice: keys off while altering). The
            # pragma is a no-op inside a transaction, so it goes to the driver before one begins.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


run()
