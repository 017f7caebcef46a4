"""Migrations are linear and numbered, run both ways, and produce exactly the models' schema."""

from __future__ import annotations

import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from panjereh import migrations
from panjereh.metadata import metadata
from tests.support import databases


def _script() -> ScriptDirectory:
    return ScriptDirectory(str(migrations.MIGRATIONS_DIR))


def test_revisions_are_one_numbered_line() -> None:
    script = _script()
    assert len(script.get_heads()) == 1, "migrations must not branch"
    revisions = list(reversed(list(script.walk_revisions())))
    for number, revision in enumerate(revisions, start=1):
        assert revision.revision == f"{number:04d}"
        assert re.match(rf"^{number:04d}_[a-z0-9_]+\.py$", revision.path.rsplit("/", 1)[-1])


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == [], f"models differ from migrations: {differences}"


def test_downgrade_to_base_and_back(home) -> None:
    url = databases.fresh_database("migrations_roundtrip", str(home))
    engine = databases.migrated_engine(url)
    head = migrations.current_revision(engine)
    migrations.downgrade(engine, "base")
    assert migrations.current_revision(engine) is None
    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == head
    engine.dispose()
