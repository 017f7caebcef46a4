"""E-mail over SMTP with TLS, as production relays require: STARTTLS (587) and implicit TLS (465) against a
real SMTP server (aiosmtpd) holding a throwaway certificate made here, the client checking it against that
CA; an untrusted certificate, a wrong host name and a relay that offers no STARTTLS send nothing."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from panjereh.core.config import NotifySettings, Settings
from panjereh.notify import providers
from panjereh.notify.models import NotificationStatus
from tests.notify.helpers import send_queued
from tests.notify.test_smtp import PASSWORD, USER, Mailbox, _authenticate, only, queue_email
from tests.support.servers import free_port


@dataclass(frozen=True)
class Authority:
    """A throwaway CA and a server certificate it signed, as PEM files."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _make_authority(folder: Path, label: str, host_ip: str = "127.0.0.1") -> Authority:
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{label} test CA"))
        .issuer_name(_name(f"{label} test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),  # fmt: skip
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("relay.panjereh.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("relay.panjereh.test"), x509.IPAddress(IPv4Address(host_ip))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    authority = Authority(
        folder / f"{label}-ca.pem", folder / f"{label}-cert.pem", folder / f"{label}-key.pem"
    )
    authority.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    authority.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    authority.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return authority


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return _make_authority(tmp_path_factory.mktemp("relay-ca"), "relay")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """Another CA: a relay certificate from it is not trusted by a client holding the first."""
    return _make_authority(tmp_path_factory.mktemp("other-ca"), "stranger")


def _server_context(authority: Authority) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(authority.cert_file, authority.key_file)
    return context


@contextmanager
def relay(
    *, starttls: Authority | None = None, implicit: Authority | None = None
) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP relay on loopback: STARTTLS offered (and required before AUTH and mail) with `starttls`,
    implicit TLS from the first byte with `implicit`, neither: a plain relay that offers no STARTTLS."""
    box = Mailbox()
    port = free_port()
    options: dict[str, Any] = {}
    if starttls is not None:
        options.update(tls_context=_server_context(starttls), require_starttls=True)
    if implicit is not None:
        options.update(ssl_context=_server_context(implicit))
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_required=True,
        auth_require_tls=starttls is not None, **options,
    )  # fmt: skip
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def tls_settings(settings: Settings, port: int, security: str, ca_file: Path | None) -> Settings:
    notify = NotifySettings.model_validate(
        {
            "email_provider": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": security,
            "smtp_user": USER, "smtp_password": PASSWORD, "smtp_timeout_seconds": 10, "smtp_ca_file": ca_file,
            "email_from": "پنجره <no-reply@panjereh.test>",
        }
    )  # fmt: skip
    return settings.model_copy(update={"notify": notify})


def deliver(factory: sessionmaker[Session], db: Session, configured: Settings) -> None:
    queue_email(db, configured, "ali@example.com")
    assert send_queued(factory, configured, providers.from_settings(configured)) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_email_goes_over_tls_to_a_relay_whose_certificate_the_ca_bundle_vouches_for(
    security: str,
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    authority: Authority,
) -> None:
    side = {"starttls": authority} if security == "starttls" else {"implicit": authority}
    with relay(**side) as (box, port):
        deliver(session_factory, db, tls_settings(settings, port, security, authority.ca_file))
    [received] = box.messages
    assert received["To"] == "ali@example.com"
    sent = only(db)
    assert (sent.status, sent.attempts, sent.last_error) == (NotificationStatus.SENT, 1, None)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_from_an_untrusted_ca_sends_nothing_and_is_retried(
    security: str,
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    authority: Authority,
    stranger: Authority,
) -> None:
    side = {"starttls": stranger} if security == "starttls" else {"implicit": stranger}
    with relay(**side) as (box, port):
        deliver(session_factory, db, tls_settings(settings, port, security, authority.ca_file))
    waiting = only(db)
    assert (waiting.status, waiting.attempts) == (NotificationStatus.QUEUED, 1)
    assert waiting.last_error is not None and "CERTIFICATE_VERIFY_FAILED" in waiting.last_error
    assert not box.messages


def test_the_system_cas_do_not_vouch_for_a_private_relay(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], authority: Authority
) -> None:
    """Without the deployment's bundle the client trusts only the system's CAs: no way round the check."""
    with relay(starttls=authority) as (box, port):
        deliver(session_factory, db, tls_settings(settings, port, "starttls", None))
    waiting = only(db)
    assert waiting.status is NotificationStatus.QUEUED and not box.messages
    assert waiting.last_error is not None and "CERTIFICATE_VERIFY_FAILED" in waiting.last_error


def test_a_certificate_for_another_host_is_refused(
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    elsewhere = _make_authority(tmp_path, "elsewhere", host_ip="10.9.8.7")  # trusted CA, wrong address
    with relay(implicit=elsewhere) as (box, port):
        deliver(session_factory, db, tls_settings(settings, port, "tls", elsewhere.ca_file))
    waiting = only(db)
    assert waiting.status is NotificationStatus.QUEUED and not box.messages
    assert waiting.last_error is not None and "IP address mismatch" in waiting.last_error


def test_a_relay_that_offers_no_starttls_gets_nothing_in_plain_text(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], authority: Authority
) -> None:
    with relay() as (box, port):  # a plain relay (or someone between who strips STARTTLS from EHLO)
        deliver(session_factory, db, tls_settings(settings, port, "starttls", authority.ca_file))
    waiting = only(db)
    assert (waiting.status, waiting.attempts) == (NotificationStatus.QUEUED, 1)
    assert waiting.last_error is not None
    assert waiting.last_error.startswith("TlsUnavailable: ") and "offers no STARTTLS" in waiting.last_error
    assert not box.messages and not box.envelopes  # no login, no envelope, no message went


def test_implicit_tls_against_a_plain_relay_fails_without_sending(
    db: Session, settings: Settings, session_factory: sessionmaker[Session], authority: Authority
) -> None:
    with relay() as (box, port):
        deliver(session_factory, db, tls_settings(settings, port, "tls", authority.ca_file))
    waiting = only(db)
    assert waiting.status is NotificationStatus.QUEUED and not box.messages
    assert waiting.last_error is not None and "SSL" in waiting.last_error


def test_a_missing_ca_bundle_refuses_to_start() -> None:
    """Fail fast: a bundle that cannot be read is refused with the settings (tests/core/test_config.py),
    not found out one e-mail at a time."""
    with pytest.raises(ValidationError, match="PANJEREH_NOTIFY_SMTP_CA_FILE=.*absent.pem"):
        NotifySettings(email_provider="smtp", smtp_ca_file=Path("/nonexistent/absent.pem"))


def test_a_ca_bundle_removed_after_start_is_a_failed_attempt_that_names_it(
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
    authority: Authority,
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "mounted-ca.pem"
    bundle.write_bytes(authority.ca_file.read_bytes())
    with relay(starttls=authority) as (box, port):
        configured = tls_settings(settings, port, "starttls", bundle)  # read at start: the file is there
        bundle.unlink()  # then a volume unmounted under the running worker
        deliver(session_factory, db, configured)
    waiting = only(db)
    assert waiting.status is NotificationStatus.QUEUED and not box.messages
    assert waiting.last_error is not None and "FileNotFoundError" in waiting.last_error
