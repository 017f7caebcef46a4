"""Settings fail fast on placeholders outside development and default to the embedded database."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

import pytest
from pydantic import ValidationError

from panjereh.core.config import (
    PLACEHOLDER_SECRET,
    ConformanceSettings,
    ExchangeSettings,
    NotifySettings,
    Settings,
)
from panjereh.core.crypto import derive_key

Environment = Literal["test", "production"]  # the environments outside development


def test_default_database_is_sqlite_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=None)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'panjereh.sqlite3').resolve()}"


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_development_the_placeholder_secret_is_refused(env: Environment) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env=env, registry_token="x" * 40)


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_development_a_short_secret_is_refused(env: Environment) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(env=env, secret_key="s" * 31, registry_token="x" * 40)


def test_a_refused_setting_never_echoes_a_value_in_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # pydantic prints the start of the input by default: for a model check that is the whole section,
    # so a short PANJEREH_SECRET_KEY would land in the terminal or the log that shows the error.
    secret = "short-but-real-secret-value"
    monkeypatch.setenv("PANJEREH_ENV", "production")
    monkeypatch.setenv("PANJEREH_SECRET_KEY", secret)
    monkeypatch.setenv("PANJEREH_NOTIFY_SMTP_PASSWORD", "relay-secret")
    with pytest.raises(ValidationError, match="SECRET_KEY") as refused:
        Settings()
    assert secret not in str(refused.value) and "input_value" not in str(refused.value)
    monkeypatch.setenv("PANJEREH_NOTIFY_SMTP_PORT", "relay-secret-port")
    with pytest.raises(ValidationError, match="smtp_port") as refused_section:
        NotifySettings()
    assert "relay-secret" not in str(refused_section.value)


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_development_the_placeholder_registry_token_is_refused(env: Environment) -> None:
    with pytest.raises(ValidationError, match="REGISTRY_TOKEN"):
        Settings(env=env, secret_key="s" * 40)


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_development_real_secrets_are_accepted(env: Environment) -> None:
    settings = Settings(
        env=env, secret_key="s" * 40, registry_token="t" * 40, public_url="https://my.example"
    )
    assert settings.env == env and settings.base_url == "https://my.example"


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_development_the_public_url_is_required(env: Environment) -> None:
    # Every link in an SMS or e-mail is made absolute from it: a guessed host would send citizens astray.
    with pytest.raises(ValidationError, match="PUBLIC_URL"):
        Settings(env=env, secret_key="s" * 40, registry_token="t" * 40)


@pytest.mark.parametrize(
    "url", ["my.example", "javascript:alert(1)", "https://my.example/?next=x", "ftp://a.b"]
)
def test_a_public_url_that_is_not_an_http_origin_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="PUBLIC_URL"):
        Settings(public_url=url)


def test_kavenegar_needs_its_key_and_line() -> None:
    from panjereh.core.config import NotifySettings

    with pytest.raises(ValidationError, match="KAVENEGAR_API_KEY"):
        NotifySettings(sms_provider="kavenegar")
    chosen = NotifySettings(sms_provider="kavenegar", kavenegar_api_key="k" * 20, kavenegar_sender="10004346")
    assert (chosen.sms, chosen.email) == ("kavenegar", "outbox")


PRODUCTION = {
    "env": "production", "secret_key": "s" * 40, "registry_token": "t" * 40, "public_url": "https://my.example",
}  # fmt: skip
RELAY_LOGINS = [{"smtp_user": "panjereh"}, {"smtp_password": "relay-secret"}]


def smtp(security: str, **fields: str) -> NotifySettings:
    return NotifySettings.model_validate({"email_provider": "smtp", "smtp_security": security, **fields})


@pytest.mark.parametrize("login", [*RELAY_LOGINS, {"smtp_user": "panjereh", "smtp_password": "relay-secret"}])
def test_in_production_an_smtp_login_over_plain_text_is_refused(login: dict[str, str]) -> None:
    notify = smtp("none", smtp_host="relay.example", **login)
    with pytest.raises(ValidationError, match="SMTP_SECURITY=none would send") as refused:
        Settings.model_validate({**PRODUCTION, "notify": notify})
    assert "relay-secret" not in str(refused.value)


def test_an_smtp_login_over_plain_text_is_refused_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "PANJEREH_ENV": "production", "PANJEREH_SECRET_KEY": "s" * 40, "PANJEREH_REGISTRY_TOKEN": "t" * 40,
        "PANJEREH_PUBLIC_URL": "https://my.example", "PANJEREH_NOTIFY_EMAIL_PROVIDER": "smtp",
        "PANJEREH_NOTIFY_SMTP_SECURITY": "none", "PANJEREH_NOTIFY_SMTP_PASSWORD": "relay-secret",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="PANJEREH_ENV=production"):
        Settings()
    monkeypatch.setenv("PANJEREH_NOTIFY_SMTP_SECURITY", "starttls")
    assert Settings().notify.smtp_security == "starttls"


@pytest.mark.parametrize("login", RELAY_LOGINS)
def test_an_smtp_login_is_accepted_over_tls_and_over_plain_text_only_in_development_and_tests(
    login: dict[str, str],
) -> None:
    for security in ("starttls", "tls"):
        chosen = Settings.model_validate({**PRODUCTION, "notify": smtp(security, **login)})
        assert chosen.notify.smtp_security == security
    for env in ("development", "test"):  # the local relay on loopback (tests/notify/test_smtp.py)
        plain = Settings.model_validate({**PRODUCTION, "env": env, "notify": smtp("none", **login)})
        assert plain.notify.smtp_security == "none"


def test_in_production_plain_text_smtp_without_a_login_is_accepted() -> None:
    notify = smtp("none")  # a relay on the same host
    assert Settings.model_validate({**PRODUCTION, "notify": notify}).notify.smtp_user is None


def test_the_smtp_ca_file_must_be_a_readable_file(tmp_path: Path) -> None:
    bundle = tmp_path / "relay-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    assert NotifySettings(smtp_ca_file=bundle).smtp_ca_file == bundle
    for wrong, reason in ((tmp_path / "absent.pem", "No such file"), (tmp_path, "Is a directory")):
        with pytest.raises(ValidationError, match=f"SMTP_CA_FILE=.*not a readable file \\({reason}"):
            NotifySettings(smtp_ca_file=wrong)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_smtp_ca_file_the_process_cannot_read_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "relay-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    bundle.chmod(0)
    with pytest.raises(ValidationError, match="Permission denied"):
        NotifySettings(smtp_ca_file=bundle)


def test_a_missing_smtp_ca_file_in_the_environment_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PANJEREH_NOTIFY_SMTP_CA_FILE", str(tmp_path / "absent.pem"))
    with pytest.raises(ValidationError, match="PANJEREH_NOTIFY_SMTP_CA_FILE"):
        Settings()


def test_development_settings_start_from_the_placeholder_until_home_is_ready() -> None:
    assert Settings(env="development").secret_key == PLACEHOLDER_SECRET  # ensure_home() replaces it


def test_the_test_suite_runs_on_a_real_secret(settings: Settings) -> None:
    assert settings.secret_key != PLACEHOLDER_SECRET and len(settings.secret_key) >= 32


def test_environment_variables_are_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_PORT", "9123")
    monkeypatch.setenv("PANJEREH_REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = Settings()
    assert settings.port == 9123
    assert settings.redis_url == "redis://127.0.0.1:6379/3"


def test_each_domain_section_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PANJEREH_EXCHANGE_SEAL_EVERY_SECONDS", "17")
    monkeypatch.setenv("PANJEREH_EXCHANGE_ARCHIVE_DIR", str(tmp_path))
    monkeypatch.setenv("PANJEREH_CONFORMANCE_INTERVAL_MINUTES", "5")
    settings = Settings()
    assert (settings.exchange.seal_every_seconds, settings.exchange.archive_dir) == (17, tmp_path)
    assert settings.conformance.interval_minutes == 5
    # Given explicitly (as the tests do), a section is not read from the environment.
    given = Settings(exchange=ExchangeSettings(), conformance=ConformanceSettings(interval_minutes=30))
    assert given.conformance.interval_minutes == 30
    with pytest.raises(ValidationError):
        monkeypatch.setenv(
            "PANJEREH_EXCHANGE_GET_RETRIES", "9"
        )  # at most 3: refused at start, as any setting
        Settings()


def test_registries_url_follows_the_port_when_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PANJEREH_REGISTRIES_URL", raising=False)
    monkeypatch.setenv("PANJEREH_REGISTRIES_PORT", "8372")
    assert Settings().registries_url == "http://127.0.0.1:8372"
    assert Settings(registries_port=9001).registries_url == "http://127.0.0.1:9001"
    # Set explicitly, the URL wins (registries elsewhere, or behind a proxy).
    monkeypatch.setenv("PANJEREH_REGISTRIES_URL", "http://registries.internal:8100")
    assert Settings().registries_url == "http://registries.internal:8100"
    assert Settings(registries_url="http://127.0.0.1:9002").registries_url == "http://127.0.0.1:9002"


def test_development_makes_a_random_secret_of_its_own_under_home(tmp_path: Path) -> None:
    settings = Settings(env="development", home=tmp_path)
    settings.ensure_home()
    secret_file = tmp_path / "secret.key"
    assert settings.secret_key != PLACEHOLDER_SECRET and len(settings.secret_key) >= 32
    assert secret_file.read_text().strip() == settings.secret_key
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["secret.key"]  # no draft left behind
    again = Settings(env="development", home=tmp_path)
    again.ensure_home()
    assert again.secret_key == settings.secret_key  # sessions and tokens survive a restart
    elsewhere = Settings(env="development", home=tmp_path / "elsewhere")
    elsewhere.ensure_home()
    assert elsewhere.secret_key != settings.secret_key


def test_a_secret_that_is_set_is_kept_in_development(tmp_path: Path) -> None:
    settings = Settings(env="development", home=tmp_path, secret_key="k" * 40)
    settings.ensure_home()
    assert settings.secret_key == "k" * 40
    assert not (tmp_path / "secret.key").exists()


def test_the_demos_exchange_tokens_are_not_signed_with_the_published_placeholder(tmp_path: Path) -> None:
    # On the old main the demo signed exchange access tokens with a key derived from the placeholder,
    # which anyone could compute: a forged token returned a (demo) criminal record.
    settings = Settings(env="development", home=tmp_path)
    settings.ensure_home()
    published = derive_key(PLACEHOLDER_SECRET, "exchange-access-token")
    assert derive_key(settings.secret_key, "exchange-access-token") != published
