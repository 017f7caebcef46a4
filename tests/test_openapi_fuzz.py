"""Schemathesis over the portal's OpenAPI document: no server error for any input, and every answer as
the document says (status codes, content types, the problem+json schema), anonymously over every
operation and signed in as a citizen over the operations that take the session cookie. Bounded and
derandomized, so a run is reproducible and takes a few minutes of CPU in `make test`."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from panjereh.app import create_app
from panjereh.core.config import Settings
from panjereh.core.cookies import SESSION_COOKIE
from panjereh.identity import sessions
from tests.identity import helpers

# Examples per operation (35 operations): enough to reach every parameter's edges, positive and
# negative, with the same cases every run.
EXAMPLES = 20
# Schemathesis's own 10 s a call was missed on a loaded CI machine (operations that ask the registries).
CALL_TIMEOUT = 120
# Signed in, over the citizen's operations (7): as many again, the run's time stays within minutes.
SIGNED_IN_EXAMPLES = 20


def _document() -> dict[str, Any]:
    """The API document as the application serves it (no database is touched, no thread started)."""
    with tempfile.TemporaryDirectory() as home:
        only_the_document = Settings(
            env="test",
            home=Path(home),
            secret_key=secrets.token_urlsafe(32),
            registry_token="unused",
            public_url="https://panjereh.test",
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
        case.call_and_validate(app=app, checks=[schemathesis.checks.not_a_server_error], timeout=CALL_TIMEOUT)
    else:
        case.call_and_validate(app=app, timeout=CALL_TIMEOUT)


def _takes_the_session_cookie(context: Any) -> bool:
    return any(
        "citizenSession" in requirement
        for requirement in context.operation.definition.raw.get("security", [])
    )


citizen_operations = schema.include(func=_takes_the_session_cookie)


@citizen_operations.parametrize()
@settings(
    max_examples=SIGNED_IN_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_a_signed_in_citizen_is_answered_as_documented(
    case: schemathesis.Case, app: FastAPI, seeded: Session
) -> None:
    """The citizen's operations past the sign-in: what an anonymous run never reaches. The session is a
    level-2 one (every operation's own checks run, not the step-up's), and a state-changing call says it
    comes from the portal's page (`Origin`), as a browser's would (identity.deps.refuse_cross_site)."""
    _row, token = sessions.open_session(seeded, helpers.citizen(seeded), level=2, amr=["sms", "otp", "mfa"])
    seeded.commit()
    # Schemathesis generates the cookie as the document declares it: a real session replaces its value;
    # a negative case that left the cookie out (or broke it) is sent as generated and must be refused.
    if case.cookies is not None and isinstance(case.cookies.get(SESSION_COOKIE), str):
        case.cookies[SESSION_COOKIE] = token
    case.call_and_validate(
        app=app,
        headers={"Origin": app.state.settings.base_url},
        # Its probe without the cookie needs a live server; tests/test_openapi_security.py holds the same:
        # every operation that declares a scheme refuses the anonymous and a forged credential.
        excluded_checks=[schemathesis.checks.ignored_auth],
        timeout=CALL_TIMEOUT,
    )
