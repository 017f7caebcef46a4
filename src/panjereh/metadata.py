"""The whole schema: imports every domain's models so the metadata (and Alembic) sees all tables."""

from __future__ import annotations

# One import per domain that has tables, for its side effect of registering them on Base.metadata.
from panjereh.agencies import models as _agencies  # noqa: F401
from panjereh.analytics import models as _analytics  # noqa: F401
from panjereh.catalog import models as _catalog  # noqa: F401
from panjereh.conformance import models as _conformance  # noqa: F401
from panjereh.core.db import Base
from panjereh.delivery import models as _delivery  # noqa: F401
from panjereh.documents import models as _documents  # noqa: F401
from panjereh.exchange import models as _exchange  # noqa: F401
from panjereh.feedback import models as _feedback  # noqa: F401
from panjereh.identity import models as _identity  # noqa: F401
from panjereh.jobs import models as _jobs  # noqa: F401
from panjereh.notify import models as _notify  # noqa: F401
from panjereh.oidc import models as _oidc  # noqa: F401
from panjereh.payments import models as _payments  # noqa: F401
from panjereh.representation import models as _representation  # noqa: F401
from panjereh.staff import models as _staff  # noqa: F401

metadata = Base.metadata
