"""Item 4 of the workspace: data services from an OpenAPI document (test-called through the exchange), apps
(OIDC clients), exchange clients and their keys; sandbox at once, production after an operator approves;
each behind its role boundary."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from panjereh.exchange import selectors as exchange_selectors
from panjereh.exchange.models import LogEntry
from panjereh.oidc import clients as oidc_clients
from panjereh.staff import selectors
from panjereh.staff.constants import RegistrationKind, RegistrationState, Role
from tests.staff.conftest import ADMIN, DESIGNER, OPERATOR, OTHER_ADMIN
from tests.support.browsers import csrf_token
from tests.support.factories import create_staff

Browser = Callable[..., TestClient]
PERSON = "0499370899"
SMALL_DOCUMENT = """
openapi: 3.0.3
info: {title: Alpha registry, version: "1"}
servers: [{url: "https://alpha.example/api"}]
paths:
  /things/{national_code}:
    get:
      operationId: thing
      summary: One thing
      parameters: [{name: national_code, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
"""


@pytest.fixture
def alpha(seeded: Session, staffed: Session) -> Session:
    """The seeded exchange (the registries' services, the platform's grants) and alpha's staff; alpha's
    administrator is a developer too."""
    create_staff(seeded, ADMIN, "alpha", Role.DEVELOPER)
    seeded.commit()
    return seeded


def _find(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.S)
    assert found, text[:2000]
    return found.group(1)


def _public(kid: str, private: bool = False) -> str:
    return json.dumps(ECKey.generate_key("P-256", {"kid": kid}).as_dict(private=private))


def _import(browser: TestClient, url: str, environment: str = "sandbox") -> str:
    token = csrf_token(browser, "/workspace/alpha/data-services")
    page = browser.post(
        "/workspace/alpha/data-services/import",
        data={"csrf_token": token, "openapi_url": url, "environment": environment},
    )
    assert page.status_code == 200, page.text[:2000]
    return page.text


def _publish(browser: TestClient, page: str, path: str, slug: str, **extra: str) -> httpx.Response:
    """Pick the operation on `path` in the pick page and publish it."""
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    form["document"] = _find(r'<textarea name="document" hidden>(.*?)</textarea>', page)
    form["document"] = (
        form["document"]
        .replace("&#34;", '"')
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
    )
    index = next(
        key.split("_")[1] for key, value in form.items() if key.startswith("path_") and value == path
    )
    form.update({
        f"pick_{index}": "on", f"slug_{index}": slug, f"title_fa_{index}": "استعلام آزمایشی",
        f"title_en_{index}": "Test inquiry", f"personal_{index}": "on", f"subject_{index}": "national_code",
        f"latency_{index}": "800", "system_slug": "registry",
        "base_url": _find(r'name="base_url" maxlength="500" required value="([^"]*)"', page),
        **extra,
    })  # fmt: skip
    return browser.post("/workspace/alpha/data-services/publish", data=form, follow_redirects=False)


def test_a_sandbox_data_service_is_published_from_its_openapi_and_test_called(
    alpha: Session, browser: Browser, registries_url: str
) -> None:
    admin = browser(ADMIN)
    page = _import(admin, f"{registries_url}/civil-registry/openapi.json")
    assert 'data-operation="GET /persons/{national_code}"' in page
    published = _publish(admin, page, "/persons/{national_code}", "person")
    assert published.status_code == 303, published.text[:2000]
    service = exchange_selectors.get_service_by_code(alpha, "alpha.person")
    assert service.active and service.personal_data and service.latency_objective_ms == 800
    assert service.system.base_url == f"{registries_url}/civil-registry"
    assert service.response_schema is not None  # read from the document
    registration = selectors.registration_of(alpha, RegistrationKind.DATA_SERVICE, "alpha.person")
    assert registration is not None and registration.state is RegistrationState.ACTIVE

    token = csrf_token(admin, "/workspace/alpha/data-services")
    called = admin.post(
        "/workspace/alpha/data-services/alpha.person/test",
        data={"csrf_token": token, "subject": PERSON, "path_params": f"national_code={PERSON}"},
    )
    assert called.status_code == 200
    assert 'id="test-result" data-ok="true" data-status="200"' in called.text
    # A sandbox call: flagged in the log, not in the persona's ledger; a real person is refused.
    message_id = _find(r'data-message="([0-9a-f]+)"', called.text)
    entry = alpha.scalars(select(LogEntry).where(LogEntry.message_id == message_id)).one()
    assert (entry.sandbox, entry.client_id) == (True, "ito-platform-sandbox")
    assert exchange_selectors.ledger_count(alpha, PERSON) == 0
    real = "8580435994"
    refused = admin.post(
        "/workspace/alpha/data-services/alpha.person/test",
        data={"csrf_token": token, "subject": real, "path_params": f"national_code={real}"},
    )
    assert refused.status_code == 403 and 'data-code="client.sandbox_subject"' in refused.text
    actions = {entry.action for entry in selectors.audit_trail(alpha, "alpha")}
    assert {"data_service.registered", "data_service.test_called"} <= actions


def test_a_production_data_service_waits_for_an_operator(
    alpha: Session, browser: Browser, registries_url: str
) -> None:
    admin = browser(ADMIN)
    page = _import(admin, f"{registries_url}/civil-registry/openapi.json", "production")
    assert _publish(admin, page, "/persons/{national_code}", "person").status_code == 303
    assert not exchange_selectors.get_service_by_code(alpha, "alpha.person").active
    token = csrf_token(admin, "/workspace/alpha/data-services")
    closed = admin.post("/workspace/alpha/data-services/alpha.person/test", data={"csrf_token": token})
    assert closed.status_code == 422

    operator = browser(OPERATOR)
    listing = operator.get("/workspace/operator/approvals").text
    [registration] = selectors.pending_registrations(alpha)
    assert f'data-registration="{registration.id}"' in listing
    assert browser(OTHER_ADMIN).get("/workspace/operator/approvals").status_code == 403
    op_token = csrf_token(operator, "/workspace/operator/approvals")
    approved = operator.post(
        f"/workspace/operator/approvals/{registration.id}/approve",
        data={"csrf_token": op_token, "note": "ok"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    alpha.expire_all()
    assert exchange_selectors.get_service_by_code(alpha, "alpha.person").active
    assert "data_service.approved" in {entry.action for entry in selectors.audit_trail(alpha, "alpha")}
    again = operator.post(
        f"/workspace/operator/approvals/{registration.id}/refuse", data={"csrf_token": op_token}
    )
    assert again.status_code == 404  # decided already


def test_an_uploaded_document_is_validated(alpha: Session, browser: Browser) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/data-services")
    for bad in (
        b"not: [valid",
        b"{}",
        b'{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {}}',
    ):
        refused = admin.post(
            "/workspace/alpha/data-services/import",
            data={"csrf_token": token},
            files={"document": ("openapi.yaml", bad, "application/yaml")},
        )
        assert refused.status_code == 422 and 'data-code="client.invalid_openapi"' in refused.text
    nothing = admin.post("/workspace/alpha/data-services/import", data={"csrf_token": token})
    assert nothing.status_code == 422
    not_http = admin.post(
        "/workspace/alpha/data-services/import",
        data={"csrf_token": token, "openapi_url": "file:///etc/passwd"},
    )
    assert not_http.status_code == 422
    page = admin.post(
        "/workspace/alpha/data-services/import",
        data={"csrf_token": token},
        files={"document": ("openapi.yaml", SMALL_DOCUMENT.encode(), "application/yaml")},
    )
    assert page.status_code == 200 and 'data-operation="GET /things/{national_code}"' in page.text
    assert 'value="https://alpha.example/api"' in page.text
    bad_slug = _publish(admin, page.text, "/things/{national_code}", "Not A Slug")
    assert bad_slug.status_code == 422 and 'data-code="client.invalid_publication"' in bad_slug.text
    forged = _publish(admin, page.text, "/things/{national_code}", "thing", path_0="/admin")
    assert forged.status_code == 422


def test_an_app_is_registered_its_secret_shown_once_rotated_and_disabled(
    alpha: Session, browser: Browser
) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/apps")
    registered = admin.post(
        "/workspace/alpha/apps",
        data={"csrf_token": token, "slug": "portal", "name_fa": "درگاه آلفا", "redirect_uris": "https://alpha.example/cb",
              "auth_method": "client_secret_basic", "subject_type": "pairwise", "min_level": "2"},
    )  # fmt: skip
    assert registered.status_code == 200
    secret = _find(r'id="client-secret">([^<]+)<', registered.text)
    app = oidc_clients.get_client(alpha, "alpha.portal")
    assert app is not None and app.subject_type == "pairwise" and app.min_level == 2
    assert secret not in admin.get("/workspace/alpha/apps").text  # shown once

    rotated = admin.post("/workspace/alpha/apps/alpha.portal/rotate", data={"csrf_token": token})
    new_secret = _find(r'id="client-secret">([^<]+)<', rotated.text)
    assert new_secret != secret
    alpha.expire_all()
    rotated_app = oidc_clients.get_client(alpha, "alpha.portal")
    assert rotated_app is not None and rotated_app.secret_hash not in (None, "")

    other = browser(OTHER_ADMIN)
    other_token = csrf_token(other, "/workspace/beta/apps")
    stolen = other.post("/workspace/beta/apps/alpha.portal/rotate", data={"csrf_token": other_token})
    assert stolen.status_code == 404
    assert (
        other.post("/workspace/alpha/apps/alpha.portal/disable", data={"csrf_token": other_token}).status_code
        == 403
    )

    disabled = admin.post(
        "/workspace/alpha/apps/alpha.portal/disable", data={"csrf_token": token}, follow_redirects=False
    )
    assert disabled.status_code == 303
    alpha.expire_all()
    assert oidc_clients.get_client(alpha, "alpha.portal") is None  # disabled clients are not served
    actions = [entry.action for entry in selectors.audit_trail(alpha, "alpha")]
    assert {"oidc_client.registered", "oidc_client.secret_rotated", "oidc_client.disabled"} <= set(actions)


def test_a_production_app_is_disabled_until_approved(alpha: Session, browser: Browser) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/apps")
    admin.post(
        "/workspace/alpha/apps",
        data={"csrf_token": token, "slug": "live", "name_fa": "آلفا", "redirect_uris": "https://alpha.example/cb",
              "environment": "production"},
    )  # fmt: skip
    assert oidc_clients.get_client(alpha, "alpha.live") is None
    bad = admin.post(
        "/workspace/alpha/apps",
        data={"csrf_token": token, "slug": "bad", "name_fa": "x", "redirect_uris": "http://evil.example/cb"},
    )
    assert bad.status_code == 422
    operator = browser(OPERATOR)
    [registration] = selectors.pending_registrations(alpha)
    op_token = csrf_token(operator, "/workspace/operator/approvals")
    operator.post(f"/workspace/operator/approvals/{registration.id}/approve", data={"csrf_token": op_token})
    alpha.expire_all()
    assert oidc_clients.get_client(alpha, "alpha.live") is not None


def test_exchange_client_keys_rotate(alpha: Session, browser: Browser) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/exchange-clients")
    made = admin.post(
        "/workspace/alpha/exchange-clients",
        data={"csrf_token": token, "slug": "backend", "name": "Alpha backend"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    for kid in ("k1", "k2"):
        added = admin.post(
            "/workspace/alpha/exchange-clients/alpha.backend/keys",
            data={"csrf_token": token, "public_jwk": _public(kid)},
            follow_redirects=False,
        )
        assert added.status_code == 303
    private = admin.post(
        "/workspace/alpha/exchange-clients/alpha.backend/keys",
        data={
            "csrf_token": token,
            "public_jwk": _public("k3", private=True),
        },
    )
    assert private.status_code == 422
    retired = admin.post(
        "/workspace/alpha/exchange-clients/alpha.backend/keys/k1/retire", data={"csrf_token": token}
    )
    assert retired.status_code == 200 and 'data-kid="k1" data-retired="true"' in retired.text
    alpha.expire_all()
    client = exchange_selectors.get_client(alpha, "alpha.backend")
    assert client.active and [k.kid for k in client.keys if k.retired_at is None] == ["k2"]
    other = browser(OTHER_ADMIN)
    other_token = csrf_token(other, "/workspace/beta/exchange-clients")
    foreign = other.post(
        "/workspace/beta/exchange-clients/alpha.backend/keys/k2/retire", data={"csrf_token": other_token}
    )
    assert foreign.status_code == 404
    taken = admin.post(
        "/workspace/alpha/exchange-clients", data={"csrf_token": token, "slug": "backend", "name": "x"}
    )
    assert taken.status_code == 409


def test_the_role_boundaries_of_the_apps_pages(alpha: Session, browser: Browser) -> None:
    designer, other = browser(DESIGNER), browser(OTHER_ADMIN)
    for path in (
        "/workspace/alpha/data-services",
        "/workspace/alpha/apps",
        "/workspace/alpha/exchange-clients",
    ):
        assert designer.get(path).status_code == 403, path  # a designer is not a developer
        assert other.get(path).status_code == 403, path  # another agency
    admin = browser(ADMIN, level=1)
    assert admin.get("/workspace/alpha/apps").status_code == 200
    token = csrf_token(admin, "/workspace/alpha/apps")
    for path, data in (
        ("/workspace/alpha/apps", {"slug": "x", "name_fa": "x", "redirect_uris": "https://x.example/cb"}),
        ("/workspace/alpha/exchange-clients", {"slug": "x", "name": "x"}),
        ("/workspace/alpha/data-services/import", {"openapi_url": "https://x.example/openapi.json"}),
    ):
        sent = admin.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        assert sent.status_code == 303 and unquote(sent.headers["location"]).startswith("/login/step-up"), (
            path
        )
    assert (
        oidc_clients.clients_of(alpha, "alpha") == [] and exchange_selectors.clients_of(alpha, "alpha") == []
    )
    assert selectors.audit_trail(alpha, "alpha") == []


def _environment_of(page: str, marker: str) -> str:
    """The environment badge in the row or card that `marker` opens."""
    return _find(re.escape(marker) + r'.*?data-environment="(\w+)"', page)


def test_the_workspace_registers_and_shows_each_environment(alpha: Session, browser: Browser) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/apps")
    for slug, environment in (("try", "sandbox"), ("live", "production")):
        admin.post(
            "/workspace/alpha/apps",
            data={"csrf_token": token, "slug": slug, "name_fa": slug, "redirect_uris": "https://alpha.example/cb",
                  "environment": environment},
        )  # fmt: skip
        admin.post(
            "/workspace/alpha/exchange-clients",
            data={"csrf_token": token, "slug": slug, "name": slug, "environment": environment},
        )
    alpha.expire_all()
    apps = {app.client_id: app.sandbox for app in oidc_clients.clients_of(alpha, "alpha")}
    assert apps == {"alpha.try": True, "alpha.live": False}
    clients = {c.client_id: c.sandbox for c in exchange_selectors.clients_of(alpha, "alpha")}
    assert clients == {"alpha.try": True, "alpha.live": False}
    page = admin.get("/workspace/alpha/apps").text
    assert _environment_of(page, 'data-app="alpha.try"') == "sandbox"
    assert _environment_of(page, 'data-app="alpha.live"') == "production"
    assert "محیط آزمایشی" in page
    page = admin.get("/workspace/alpha/exchange-clients").text
    assert _environment_of(page, 'data-client="alpha.try"') == "sandbox"
    assert _environment_of(page, 'data-client="alpha.live"') == "production"
    english = admin.get("/workspace/alpha/exchange-clients?lang=en").text
    assert 'data-environment="sandbox">Sandbox<' in english
    assert 'data-environment="production">Production<' in english


DEVELOPER_ONLY = "0012345679"


def _register_app(admin: TestClient, slug: str, environment: str = "sandbox") -> None:
    token = csrf_token(admin, "/workspace/alpha/apps")
    registered = admin.post(
        "/workspace/alpha/apps",
        data={"csrf_token": token, "slug": slug, "name_fa": "درگاه آلفا", "redirect_uris": "https://alpha.example/cb",
              "environment": environment},
    )  # fmt: skip
    assert registered.status_code == 200, registered.text[:2000]


def _post(browser: TestClient, path: str, **extra: object) -> httpx.Response:
    token = csrf_token(browser, "/workspace/alpha/apps")
    return browser.post(path, data={"csrf_token": token}, follow_redirects=False, **extra)


def test_an_administrator_re_enables_a_disabled_app(alpha: Session, browser: Browser) -> None:
    admin = browser(ADMIN)
    _register_app(admin, "portal")
    assert _post(admin, "/workspace/alpha/apps/alpha.portal/disable").status_code == 303
    page = admin.get("/workspace/alpha/apps").text
    assert 'data-app="alpha.portal" data-enabled="false"' in page and 'data-enable="alpha.portal"' in page

    enabled = _post(admin, "/workspace/alpha/apps/alpha.portal/enable")
    assert enabled.status_code == 303
    alpha.expire_all()
    assert oidc_clients.get_client(alpha, "alpha.portal") is not None  # served again
    assert 'data-app="alpha.portal" data-enabled="true"' in admin.get("/workspace/alpha/apps").text
    actions = [entry.action for entry in selectors.audit_trail(alpha, "alpha")]
    assert actions.count("oidc_client.enabled") == 1


def test_re_enabling_is_for_the_agencys_administrator_at_level_2(alpha: Session, browser: Browser) -> None:
    admin = browser(ADMIN)
    _register_app(admin, "portal")
    _post(admin, "/workspace/alpha/apps/alpha.portal/disable")
    create_staff(alpha, DEVELOPER_ONLY, "alpha", Role.DEVELOPER)
    alpha.commit()
    developer = browser(DEVELOPER_ONLY)
    assert 'data-enable="alpha.portal"' not in developer.get("/workspace/alpha/apps").text
    refused = _post(developer, "/workspace/alpha/apps/alpha.portal/enable")
    assert refused.status_code == 403 and "staff.forbidden" in refused.text

    other = browser(OTHER_ADMIN)
    other_token = csrf_token(other, "/workspace/beta/apps")
    across = other.post("/workspace/alpha/apps/alpha.portal/enable", data={"csrf_token": other_token})
    assert across.status_code == 403
    through_own = other.post("/workspace/beta/apps/alpha.portal/enable", data={"csrf_token": other_token})
    assert through_own.status_code == 404  # another agency's app does not exist in one's own workspace

    level_1 = browser(ADMIN, level=1)
    sent = _post(
        level_1,
        "/workspace/alpha/apps/alpha.portal/enable",
        headers={"referer": "http://testserver/workspace/alpha/apps"},
    )
    assert sent.status_code == 303
    assert unquote(sent.headers["location"]) == "/login/step-up?next=/workspace/alpha/apps"
    forged = admin.post("/workspace/alpha/apps/alpha.portal/enable", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    alpha.expire_all()
    assert oidc_clients.get_client(alpha, "alpha.portal") is None  # still disabled after all of them
    assert "oidc_client.enabled" not in [entry.action for entry in selectors.audit_trail(alpha, "alpha")]


def test_a_production_app_waiting_for_approval_cannot_be_enabled_around_the_operator(
    alpha: Session, browser: Browser
) -> None:
    admin = browser(ADMIN)
    _register_app(admin, "live", environment="production")
    page = admin.get("/workspace/alpha/apps").text
    assert 'data-enable="alpha.live"' not in page
    refused = _post(admin, "/workspace/alpha/apps/alpha.live/enable")
    assert refused.status_code == 409 and 'data-code="staff.registration_not_active"' in refused.text
    alpha.expire_all()
    assert oidc_clients.get_client(alpha, "alpha.live") is None


def test_an_apps_verified_attributes_open_only_when_the_operator_approves(
    alpha: Session, browser: Browser
) -> None:
    admin = browser(ADMIN)
    token = csrf_token(admin, "/workspace/alpha/apps")
    assert 'name="reason_address"' in admin.get("/workspace/alpha/apps").text
    admin.post(
        "/workspace/alpha/apps",
        data={"csrf_token": token, "slug": "bank", "name_fa": "بانک آلفا", "redirect_uris": "https://alpha.example/cb",
              "environment": "production", "reason_address": "برای فرستادن کارت بانکی",
              "reason_vehicles": " "},
    )  # fmt: skip
    alpha.expire_all()
    [registration] = selectors.pending_registrations(alpha)
    asked = oidc_clients.attributes_asked(alpha, "alpha.bank")
    assert asked == [("نشانی محل سکونت", "Home address", "برای فرستادن کارت بانکی")]
    operator = browser(OPERATOR)
    approvals = operator.get("/workspace/operator/approvals").text
    assert "برای فرستادن کارت بانکی" in approvals  # the operator reads what is asked, and why
    # Waiting: disabled, and nothing approved (an administrator's re-enable cannot open it either).
    assert oidc_clients.get_client(alpha, "alpha.bank") is None
    listed = {c.client_id: c for c in oidc_clients.clients_of(alpha, "alpha")}
    assert listed["alpha.bank"].approved_attributes == ""
    assert "vehicles" not in listed["alpha.bank"].scopes.split()  # a blank reason asks for nothing
    op_token = csrf_token(operator, "/workspace/operator/approvals")
    operator.post(f"/workspace/operator/approvals/{registration.id}/approve", data={"csrf_token": op_token})
    alpha.expire_all()
    client = oidc_clients.get_client(alpha, "alpha.bank")
    assert client is not None and oidc_clients.approved_attribute_scopes(client) == {"address"}
    # A sandbox app (test personas only) has its attributes at once.
    admin.post(
        "/workspace/alpha/apps",
        data={"csrf_token": token, "slug": "try", "name_fa": "آزمایش", "redirect_uris": "https://alpha.example/cb",
              "environment": "sandbox", "reason_education": "برای سنجش وام دانشجویی"},
    )  # fmt: skip
    alpha.expire_all()
    sandbox = oidc_clients.get_client(alpha, "alpha.try")
    assert sandbox is not None and oidc_clients.approved_attribute_scopes(sandbox) == {"education"}
    # A reason too short is refused with the form kept.
    short = admin.post(
        "/workspace/alpha/apps",
        data={"csrf_token": token, "slug": "short", "name_fa": "کوتاه", "redirect_uris": "https://alpha.example/cb",
              "reason_address": "چرا"},
    )  # fmt: skip
    assert short.status_code == 422 and 'value="چرا"' in short.text
