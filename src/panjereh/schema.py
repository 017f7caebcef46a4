"""The whole schema: imports every domain's models so the metadata (and Alembic) sees all tables."""

from __future__ import annotations

# One import per domain that has tables, for its side effect of registering them on Base.metadata.
from panjereh.agencies import models as _agencies  # noqa: F401
from panjereh.analytics import models as _analytics  # noqa: F401
from panjereh.catalog import models as _catalog  # noqa: F401
from panjereh.core.db import Base

metadata = Base.metadata
