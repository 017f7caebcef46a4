"""Client registration: the admin API (token-protected) and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from panjereh.cli import app as cli_app
from panjereh.core.config import Settings
from panjereh.oidc import clients
from panjereh.oidc.exceptions import InvalidClientMetadata

BODY = {
    "client_id": "my.police",
    "client_name": "پلیس من",
    "redirect_uris": ["https://police.example.ir/cb"],
    "subject_type": "pairwise",
}


@pytest.fixture
def admin_app(settings: Settings, app: FastAPI) -> FastAPI:
    app.state.settings = settings.model_copy(update={"oidc_admin_token": "admin-secret-token"})
    return app


def test_admin_api_needs_the_token(admin_app: FastAPI, db: Session) -> None:
    with TestClient(admin_app) as http:
        assert http.post("/api/v1/oidc/clients", json=BODY).status_code == 401
        wrong = http.post("/api/v1/oidc/clients", json=BODY, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["code"] == "oidc.admin_token_rejected"
        assert wrong.headers["www-authenticate"].startswith("Bearer")
        made = http.post(
            "/api/v1/oidc/clients", json=BODY, headers={"Authorization": "Bearer admin-secret-token"}
        )
        assert made.status_code == 201, made.text
        assert made.json()["client_secret"] and made.json()["sector_identifier"] == "police.example.ir"
        listed = http.get(
            "/api/v1/oidc/clients", headers={"Authorization": "Bearer admin-secret-token"}
        ).json()
        assert [row["client_id"] for row in listed] == ["my.police"]
        assert "client_secret" not in listed[0]
        dup = http.post(
            "/api/v1/oidc/clients", json=BODY, headers={"Authorization": "Bearer admin-secret-token"}
        )
        assert dup.status_code == 409


def test_admin_api_is_off_without_a_configured_token(client: TestClient) -> None:
    assert client.get("/api/v1/oidc/clients", headers={"Authorization": "Bearer "}).status_code == 401


@pytest.mark.parametrize(
    "bad",
    [
        {"redirect_uris": ["http://evil.example/cb"]},
        {"redirect_uris": ["https://x.example/cb#frag"]},
        {"token_endpoint_auth_method": "none"},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"scopes": ["profile"]},
    ],
)
def test_invalid_registrations_are_refused(db: Session, bad: dict[str, object]) -> None:
    kwargs: dict[str, object] = {"redirect_uris": ["https://ok.example/cb"], **bad}
    with pytest.raises(InvalidClientMetadata):
        clients.register(db, client_id="bad.client", name_fa="بد", **kwargs)  # type: ignore[arg-type]


def test_cli_adds_lists_and_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from panjereh import migrations
    from panjereh.core.config import get_settings
    from panjereh.core.db import make_engine

    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    migrations.upgrade(make_engine(url))
    monkeypatch.setenv("PANJEREH_DATABASE_URL", url)
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        added = runner.invoke(
            cli_app,
            [
                "oidc",
                "client",
                "add",
                "my.tax",
                "--name-fa",
                "مالیات من",
                "--redirect-uri",
                "https://tax.example.ir/cb",
            ],
        )
        assert added.exit_code == 0, added.output
        assert json.loads(added.output)["client_secret"]
        assert json.loads(added.output)["sandbox"] is False
        sandboxed = runner.invoke(
            cli_app,
            ["oidc", "client", "add", "try.tax", "--name-fa", "آزمون", "--redirect-uri", "https://tax.example.ir/cb",
             "--sandbox"],
        )  # fmt: skip
        assert sandboxed.exit_code == 0 and json.loads(sandboxed.output)["sandbox"] is True, sandboxed.output
        bank = runner.invoke(
            cli_app,
            ["oidc", "client", "add", "bank.cli", "--name-fa", "بانک", "--redirect-uri", "https://bank.example.ir/cb",
             "--scope", "openid address", "--attribute-purpose", "address=برای فرستادن کارت بانکی"],
        )  # fmt: skip
        assert bank.exit_code == 0, bank.output
        assert json.loads(bank.output)["approved_attributes"] == "address"
        listed = runner.invoke(cli_app, ["oidc", "client", "list"])
        assert "my.tax" in listed.output
        assert runner.invoke(cli_app, ["oidc", "keys", "rotate"]).exit_code == 0
        assert runner.invoke(cli_app, ["oidc", "keys", "rotate", "--now"]).exit_code == 0
        keys_out = runner.invoke(cli_app, ["oidc", "keys", "list"]).output
        assert keys_out.count("active") == 1 and keys_out.count("retired") == 1
    finally:
        get_settings.cache_clear()


def test_cli_mistakes_are_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from panjereh import migrations
    from panjereh.core.config import get_settings
    from panjereh.core.db import make_engine

    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    migrations.upgrade(make_engine(url))
    monkeypatch.setenv("PANJEREH_DATABASE_URL", url)
    monkeypatch.setenv("PANJEREH_HOME", str(tmp_path))
    get_settings.cache_clear()
    add = ["oidc", "client", "add", "my.tax", "--name-fa", "مالیات من", "--redirect-uri"]
    not_json = tmp_path / "jwks.json"
    not_json.write_text("{not json")
    try:
        runner = CliRunner()
        mistakes = [
            [*add, "https://*.example/cb"],  # a wildcard is not a literal URI
            [*add, "http://tax.example.ir/cb"],
            [
                *add,
                "https://tax.example.ir/cb",
                "--auth-method",
                "private_key_jwt",
                "--jwks-file",
                str(not_json),
            ],
            [*add, "https://tax.example.ir/cb", "--public"],  # a public client must be a native app
            [*add, "https://tax.example.ir/cb", "--scope", "openid address"],  # an attribute needs a reason
            ["oidc", "client", "disable", "no.such.client"],
        ]
        for args in mistakes:
            result = runner.invoke(cli_app, args)
            assert result.exit_code == 2, (args, result.output)
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.output)
            assert "Traceback" not in result.output
        assert runner.invoke(cli_app, [*add, "https://tax.example.ir/cb"]).exit_code == 0
        again = runner.invoke(cli_app, [*add, "https://tax.example.ir/cb"])
        assert again.exit_code == 2 and again.output.startswith("error: ")
        native = runner.invoke(
            cli_app,
            [
                *add[:3],
                "tax.mobile",
                *add[4:],
                "http://127.0.0.1/cb",
                "--application-type",
                "native",
                "--public",
            ],
        )
        assert native.exit_code == 0, native.output
        assert "client_secret" not in json.loads(native.output)
        # A rotation publishes first: the new key is listed as published, the old one still signs.
        runner.invoke(cli_app, ["oidc", "keys", "list"])
        rotated = runner.invoke(cli_app, ["oidc", "keys", "rotate"])
        assert rotated.exit_code == 0 and "published key" in rotated.output
        listed = runner.invoke(cli_app, ["oidc", "keys", "list"]).output
        assert listed.count("active") == 1 and listed.count("published (signs from") == 1
    finally:
        get_settings.cache_clear()
