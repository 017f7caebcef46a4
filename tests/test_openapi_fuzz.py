"""Schemathesis over the portal's OpenAPI document: no server error for any input, and every answer as
the document says (status codes, content types, the problem+json schema). Bounded and derandomized, so
a run is reproducible and takes a few minutes of CPU in `make test`."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from panjereh.app import create_app
from panjereh.core.config import Settings

# Examples per operation (35 operations): enough to reach every parameter's edges, positive and
# negative, with the same cases every run.
EXAMPLES = 20


def _document() -> dict[str, Any]:
    """The API document as the application serves it (no database is touched, no thread started)."""
    with tempfile.TemporaryDirectory() as home:
        only_the_document = Settings(
            env="test", home=Path(home), secret_key=secrets.token_urlsafe(32), registry_token="unused"
        )
        return create_app(only_the_document).openapi()


# Schema-valid data may still break a domain rule the document cannot state (a document is verified by
# its QR payload *or* its number; a service's inputs are its definition's): those answer 422 with the
# domain's own code, and are accepted here as the answer they are.
CONFIG = schemathesis.config.SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)

# The OIDC endpoints answer as RFC 6749/OpenID Connect say ({"error": ...}), not as problems: they are
# held to "no server error" here and to their protocol in tests/oidc.
PROTOCOL_PREFIXES = ("/oauth2/", "/.well-known/")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_answers_every_input_as_documented(case: schemathesis.Case, app: FastAPI) -> None:
    if case.path.startswith(PROTOCOL_PREFIXES):
        case.call_and_validate(app=app, checks=[schemathesis.checks.not_a_server_error])
    else:
        case.call_and_validate(app=app)
